"""Dovecot's configuration as the tests write it, for Dovecot 2.3 or 2.4.

The tests describe a configuration once, in Dovecot 2.3's syntax (text,
with the module's settings as the lines of its 2.3 settings file); on 2.3
it is used as it is. to_24() turns it into what Dovecot 2.4 wants, for the
settings the tests use:

    2.3                                  2.4
    passdb { driver = X  args = ... }    passdb X { ... }  (X's own settings)
    the module's settings file           mariadb_KEY at the top level; the
                                         queries and fields { } in the blocks
    allow_weak_schemes = yes (module's)  also auth_allow_weak_schemes = yes
    passdb { driver = sql  args = ... }  passdb sql { query = ... }, from the
                                         sql driver's settings file: its
                                         queries in the blocks, its driver
                                         and connect as sql_driver and a
                                         mysql HOST { port = ... } per host
    default_fields = home=/x/%n uid=8    fields { home:default = /x/%{user |
                                         username}  uid:default = 8 }
    home = /var/vmail/%d/%n              fields { home = .../%{user | domain}/
                                         %{user | username} }
    mail(_location) = maildir:~/Maildir  mail_driver = maildir,
                                         mail_path = ~/Maildir
    disable_plaintext_auth = yes         auth_allow_cleartext = no
    ssl_cert = <FILE, ssl_key = <FILE    ssl_server_cert_file = FILE, ...
    auth_worker_max_count = N            service auth-worker { process_limit }
    inet_listener { address = A }        inet_listener { listen = A }
    group_by = a b                       group_by a { }  group_by b { }
    import_environment = A B=x           import_environment { A = ... B = x }
    default_vsz_limit = 0                default_vsz_limit = unlimited

and adds what 2.4 requires or does differently: dovecot_config_version and
dovecot_storage_version first, and auth_internal_failure_delay = 0 (2.4
answers internal failures, a database down, 2-3 s late; 2.3 at once).

A setting that is not in this list is kept as it is: where 2.4 renamed it,
doveconf says so when Dovecot starts."""

import re

# Dovecot 2.3's variables in the module's templates, in 2.4's syntax
VARIABLES_24 = {"%u": "%{user}", "%n": "%{user | username}",
                "%d": "%{user | domain}", "%%": "%"}

# The keys of the module's 2.3 settings file that are not mariadb_KEY in 2.4
QUERY_KEYS_24 = {"password_query": ("passdb", "query"),
                 "user_query": ("userdb", "query"),
                 "iterate_query": ("userdb", "iterate_query"),
                 "rehash_query": ("passdb", "rehash_query")}
TEMPLATE_KEYS = ("home", "mail", "uid", "gid")
# The keys of Dovecot's 2.3 sql driver's settings file, in 2.4's blocks
SQL_KEYS_24 = {"password_query": ("passdb", "query"),
               "update_query": ("passdb", "update_query"),
               "default_pass_scheme": ("passdb", "default_password_scheme"),
               "user_query": ("userdb", "query"),
               "iterate_query": ("userdb", "iterate_query")}


class Section:
    """name [arg] { items }: items are (key, value) pairs, Sections and
    comments (None, "# text")."""

    def __init__(self, name, arg=None, items=None):
        self.name = name
        self.arg = arg
        self.items = items if items is not None else []

    def get(self, key, default=None):
        for item in self.items:
            if isinstance(item, tuple) and item[0] == key:
                return item[1]
        return default


def logical_lines(text):
    """Lines with their continuations (a line ending in \\) joined."""
    lines = []
    pending = ""
    for line in text.splitlines():
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        lines.append(pending + line)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def parse(text):
    """A configuration's text as a Section named "" (the top level)."""
    stack = [Section("")]
    for number, raw in enumerate(logical_lines(text), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            stack[-1].items.append((None, line))
        elif line == "}":
            if len(stack) == 1:
                raise ValueError("line %d: } without a section" % number)
            stack.pop()
        elif line.endswith("{"):
            words = line[:-1].split()
            section = Section(words[0], " ".join(words[1:]) or None)
            stack[-1].items.append(section)
            stack.append(section)
        elif "=" in line:
            key, value = line.split("=", 1)
            stack[-1].items.append((key.strip(), value.strip()))
        else:
            raise ValueError("line %d: not a setting: %r" % (number, raw))
    if len(stack) != 1:
        raise ValueError("section %s { is not closed" % stack[-1].name)
    return stack[0]


def parse_settings_file(text):
    """The module's 2.3 settings file as {key: value}, in its order."""
    settings = {}
    for line in logical_lines(text):
        line = line.strip()
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings[key.strip()] = value.strip()
    return settings


def format(section, indent=""):
    """A Section's items as configuration text."""
    out = []
    for item in section.items:
        if isinstance(item, Section):
            head = item.name + (" " + item.arg if item.arg else "")
            out.append("%s%s {\n%s%s}\n" % (indent, head, format(item, indent + "  "), indent))
        elif item[0] is None:
            out.append("%s%s\n" % (indent, item[1]))
        else:
            out.append("%s%s = %s\n" % (indent, item[0], item[1]))
    return "".join(out)


def template_24(value):
    """A 2.3 template (home = /var/vmail/%d/%n) in 2.4's variables."""
    return re.sub(r"%[und%]", lambda m: VARIABLES_24[m.group(0)], value)


def mail_location_24(location):
    """maildir:~/Maildir as [(mail_driver, maildir), (mail_path, ~/Maildir)]."""
    driver, _, path = location.partition(":")
    items = [("mail_driver", driver)]
    if path:
        items.append(("mail_path", path))
    return items


def module_settings_24(settings):
    """The module's 2.3 settings file ({key: value}) in 2.4: the top-level
    mariadb_KEY items, and {"passdb": items, "userdb": items} for the
    passdb mariadb and userdb mariadb blocks (queries, fields { })."""
    top = []
    blocks = {"passdb": [], "userdb": []}
    fields = []
    for key, value in settings.items():
        if key in QUERY_KEYS_24:
            kind, name = QUERY_KEYS_24[key]
            blocks[kind].append((name, value))
        elif key == "mail":
            fields += mail_location_24(value)
        elif key in TEMPLATE_KEYS:
            fields.append((key, template_24(value)))
        else:
            top.append(("mariadb_" + key, value))
            # 2.4 refuses its own weak schemes unless told; the module
            # refuses to start with allow_weak_schemes = yes without it
            if key == "allow_weak_schemes" and value == "yes":
                top.append(("auth_allow_weak_schemes", "yes"))
    if fields:
        blocks["userdb"].append(Section("fields", items=fields))
    return top, blocks


def sql_settings_24(settings):
    """The sql driver's 2.3 settings file ({key: value}) in 2.4: the
    top-level items (sql_driver, and a DRIVER HOST { } block with connect's
    other parameters for each of its host=), and {"passdb": items,
    "userdb": items} for the passdb sql and userdb sql blocks."""
    driver = settings["driver"]
    params = [word.split("=", 1) for word in settings.get("connect", "").split()]
    host_params = [(key, value) for key, value in params if key != "host"]
    top = [("sql_driver", driver)]
    top += [Section(driver, value, list(host_params)) for key, value in params
            if key == "host"]
    blocks = {"passdb": [], "userdb": []}
    for key, value in settings.items():
        if key in ("driver", "connect"):
            continue
        if key not in SQL_KEYS_24:
            raise ValueError("sql: no 2.4 form for %s = %s" % (key, value))
        kind, name = SQL_KEYS_24[key]
        blocks[kind].append((name, template_24(value) if key.endswith("_query") else value))
    return top, blocks


def default_fields_24(value):
    """A 2.3 default_fields value (home=/x/%d uid=8) as 2.4's fields { }."""
    fields = [word.split("=", 1) for word in value.split()]
    return Section("fields", items=[(key + ":default", template_24(v)) for key, v in fields])


def authdb_24(section, sql_blocks):
    """A 2.3 passdb or userdb section of a driver other than mariadb;
    sql_blocks: the sql driver's items for its blocks (sql_settings_24)."""
    driver = section.get("driver")
    items = []
    for item in section.items:
        if isinstance(item, Section) or item[0] not in ("driver", "args", "default_fields"):
            items.append(item)
        elif item[0] == "default_fields":
            items.append(default_fields_24(item[1]))
    args = section.get("args")
    if driver == "sql":
        if sql_blocks is None:
            raise ValueError("%s sql: no settings for its args = %s" % (section.name, args))
        items = sql_blocks[section.name] + items
    elif driver == "passwd-file" and args:
        words = args.split()
        path = [word for word in words if "=" not in word][-1]
        items.insert(0, ("passwd_file_path", path))
        # 2.4 looks the user up by auth_username_format, which the tests
        # set empty for the module (an empty one looks up user=""): the
        # passdb's own, from username_format, or 2.3's default %u
        username_format = "%{user}"
        for word in words:
            if word.startswith("username_format="):
                username_format = template_24(word.split("=", 1)[1])
        items.insert(1, ("auth_username_format", username_format))
    elif args:
        raise ValueError("%s %s: no 2.4 form for args = %s" % (section.name, driver, args))
    return Section(section.name, driver, items)


def section_24(section):
    """A section other than passdb and userdb, its settings in 2.4's names."""
    items = []
    for item in section.items:
        if isinstance(item, Section):
            items.append(section_24(item))
            continue
        key, value = item
        if key == "address" and section.name == "inet_listener":
            items.append(("listen", value))
        elif key == "group_by" and section.name == "metric":
            items += [Section("group_by", field) for field in value.split()]
        else:
            items.append(item)
    return Section(section.name, section.arg, items)


def setting_24(key, value, services):
    """A top-level 2.3 setting as 2.4 items; services collects the settings
    that 2.4 has in a service block ({service: [items]})."""
    if key == "disable_plaintext_auth":
        return [("auth_allow_cleartext", "no" if value == "yes" else "yes")]
    if key in ("ssl_cert", "ssl_key", "ssl_ca"):
        return [("ssl_server_%s_file" % key[4:], value.lstrip("<").strip())]
    if key == "mail_location":
        return mail_location_24(value)
    if key == "auth_worker_max_count":
        services.setdefault("auth-worker", []).append(("process_limit", value))
        return []
    if key == "default_vsz_limit" and value == "0":
        return [(key, "unlimited")]
    if key == "import_environment":
        variables = []
        for word in value.split():
            name, has_value, v = word.partition("=")
            variables.append((name, v if has_value else "%%{env:%s}" % name))
        return [Section("import_environment", items=variables)]
    return [(key, value)]


def to_24(text, module_settings, version, sql_settings=None):
    """A 2.3 configuration text (its passdb and userdb sections with driver =
    mariadb take module_settings, the settings file as {key: value}; those
    with driver = sql take sql_settings, the sql driver's settings file) as
    a 2.4 configuration text. version: "2.4.1", for
    dovecot_config_version."""
    top = parse(text)
    items = [("dovecot_config_version", version),
             ("dovecot_storage_version", version),
             (None, "# 2.3 answered internal failures at once"),
             ("auth_internal_failure_delay", "0")]
    services = {}
    module_top, module_blocks = module_settings_24(module_settings)
    sql_top, sql_blocks = [], None
    if sql_settings is not None:
        sql_top, sql_blocks = sql_settings_24(sql_settings)
    for item in top.items:
        if isinstance(item, tuple):
            if item[0] is None:
                items.append(item)
            else:
                items += setting_24(item[0], item[1], services)
        elif item.name in ("passdb", "userdb") and item.get("driver") == "mariadb":
            if item.name == "passdb":
                items += module_top
            # the block's own settings after the module's queries and fields
            items.append(Section(item.name, "mariadb", module_blocks[item.name] + [
                i for i in item.items
                if not (isinstance(i, tuple) and i[0] in ("driver", "args"))]))
        elif item.name in ("passdb", "userdb"):
            if item.get("driver") == "sql":
                # the driver's connection once, before its first block
                items += sql_top
                sql_top = []
            items.append(authdb_24(item, sql_blocks))
        elif item.name == "plugin":
            # 2.4 has no plugin { }: plugins' settings are Dovecot's own
            items += item.items
        else:
            items.append(section_24(item))
    for name, settings in services.items():
        for item in items:
            if isinstance(item, Section) and (item.name, item.arg) == ("service", name):
                item.items += settings
                break
        else:
            items.append(Section("service", name, settings))
    return format(Section("", items=items))
