#!/usr/bin/env python3
"""Run the integration tests (tests/integration/test_*.py) with real servers.

Prints every test's result and ends with "integration: N passed, M failed".
Arguments select test modules by name (default: all).

Order: modules run in the order of their file names; inside a module, the
test classes run in the order they are written, and each class's tests in
the order they are written (SourceOrderLoader), not in the order of their
names as unittest's own loader has it. A test that leaves its servers in a
state the others must not see (a database outage, a reload, a changed
configuration) is written last in its module, and a test that reads what
the tests before it left (the log) is written after them."""

import inspect
import os
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def source_line(obj):
    """The line where a class or function is written in its file."""
    return inspect.getsourcelines(inspect.unwrap(obj))[1]


class SourceOrderLoader(unittest.TestLoader):
    """unittest's loader, with classes and tests in the order they are
    written (see the module documentation)."""

    def loadTestsFromModule(self, module, *, pattern=None):
        if hasattr(module, "load_tests"):
            return super().loadTestsFromModule(module, pattern=pattern)
        classes = [obj for obj in vars(module).values()
                   if isinstance(obj, type) and issubclass(obj, unittest.TestCase)]
        # a class imported from elsewhere (none is, today) after the
        # module's own
        classes.sort(key=lambda c: (c.__module__ != module.__name__, source_line(c)))
        return self.suiteClass(self.loadTestsFromTestCase(c) for c in classes)

    def getTestCaseNames(self, testCaseClass):
        names = super().getTestCaseNames(testCaseClass)
        return sorted(names, key=lambda name: source_line(getattr(testCaseClass, name)))


def main():
    if os.geteuid() != 0:
        sys.exit("integration tests start MariaDB and Dovecot: run them as root")
    # a SIGTERM (timeout, CI) still runs the fixtures' clean-up (atexit)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    loader = SourceOrderLoader()
    patterns = sys.argv[1:] or ["test_*.py"]
    suite = unittest.TestSuite()
    for pattern in patterns:
        if not pattern.endswith(".py"):
            pattern = pattern + ".py"
        suite.addTests(loader.discover(HERE, pattern=pattern, top_level_dir=HERE))
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    sanitizer_dir = os.environ.get("SANITIZER_LOG_DIR")
    if sanitizer_dir:
        # a report of ASan or UBSan from any Dovecot process is a failure
        reports = sorted(os.listdir(sanitizer_dir))
        for name in reports:
            with open(os.path.join(sanitizer_dir, name), errors="replace") as f:
                print("sanitizer report %s:\n%s" % (name, f.read()))
        print("sanitizer reports: %d" % len(reports))
        failed += 1 if reports else 0
    skipped = len(result.skipped)
    # a failed setUpModule is an error without a test run
    # an expected failure is a known bug, marked in its test: not a pass
    known = len(result.expectedFailures)
    passed = max(result.testsRun - failed - skipped - known, 0)
    if known:
        print("known bugs (expected failures): %d" % known)
    print("integration: %d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)


if __name__ == "__main__":
    main()
