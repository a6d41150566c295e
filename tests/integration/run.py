#!/usr/bin/env python3
"""Run the integration tests (tests/integration/test_*.py) with real servers.

Prints every test's result and ends with "integration: N passed, M failed".
Arguments select test modules by name (default: all)."""

import os
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if os.geteuid() != 0:
        sys.exit("integration tests start MariaDB and Dovecot: run them as root")
    # a SIGTERM (timeout, CI) still runs the fixtures' clean-up (atexit)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    loader = unittest.TestLoader()
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
