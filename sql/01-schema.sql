-- 01-schema.sql: database and tables for virtual mail users (MariaDB 10.11)
--
-- The schema of the Korean mail-server guide ("메일서버 구축"): the same
-- database, tables and columns, with the guide's bugs fixed. Each
-- fix is explained where it is made. Re-runnable: every object is created
-- only if it does not exist yet. An existing table is left as it is (this
-- script does not migrate a schema created from the guide's text; compare it
-- with SHOW CREATE TABLE).
--
-- Rules that hold for all tables below:
-- - InnoDB, utf8mb4 with utf8mb4_general_ci: comparisons of addresses are
--   case-insensitive and ignore trailing spaces (PAD SPACE), so 'DeepWood'
--   and 'deepwood ' are the same key as 'deepwood'.
-- - Foreign keys are written as table-level FOREIGN KEY clauses. The guide
--   wrote them inline in the column definition ("domain ... REFERENCES
--   domains(domain)"). MySQL 8 parses that form and silently ignores it, and
--   so did MariaDB before 10.5. MariaDB 10.5 and later do create the
--   constraint (verified on 10.11: the guide's table gets `users_ibfk_1`).
--   The explicit form means the same on every server and names the
--   constraint.
-- - The guide only sketched its length check, in a comment and in PostgreSQL
--   syntax: CHECK(char_length(local || domain) <= 254). Copied into MariaDB
--   it checks nothing: || is a logical OR (unless sql_mode has
--   PIPES_AS_CONCAT), 'deepwood' || 'nahida.net' is 0, its length is 1 and
--   the check always passes. It also leaves out the '@'. The checks below
--   are real constraints (enforced since MariaDB 10.2) on
--   CONCAT(local, '@', domain).
-- - Lengths are counted in octets (OCTET_LENGTH), as RFC 5321 section 4.5.3.1
--   counts them: local part at most 64; domain at most 253 (the longest
--   domain name in text form); whole address at most 254 (a path is at most
--   256 octets including its angle brackets). Counting characters would let
--   a UTF-8 address (SMTPUTF8) through with up to four times as many octets.
--   With ASCII, the column widths alone (40 + 1 + 64 = 105) keep an address
--   far below 254; the checks matter for UTF-8 and if a column is widened.
-- - A local part or domain is not empty and contains no '@', no white space
--   and no control characters: the authentication module refuses such
--   logins, so such a row could never be used.
-- - Domains are stored in lower case. A foreign key compares with the
--   column's case-insensitive collation, so 'NAHIDA.NET' satisfies a
--   reference to 'nahida.net': every domain column has its own check. The
--   comparison uses utf8mb4_bin, because under utf8mb4_general_ci
--   'NAHIDA.NET' = LOWER('NAHIDA.NET') is true.
-- - Too-long values are rejected (rather than silently truncated) only with
--   STRICT_TRANS_TABLES in sql_mode, which is MariaDB's default.

-- Every script sets the connection character set itself rather than take
-- the one the mariadb client derives from the locale (see 04-sample-data.sql).
SET NAMES utf8mb4;

-- The guide created the database and changed its character set in a second
-- statement; here one statement does both, and ALTER DATABASE repeats the
-- character set for a database that was created earlier without it.
CREATE DATABASE IF NOT EXISTS mail_server
	CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
ALTER DATABASE mail_server CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;

USE mail_server;

-- The mail domains this server is the final destination for
-- (the domain part of local@domain).
CREATE TABLE IF NOT EXISTS domains (
	domain varchar(64) NOT NULL,
	PRIMARY KEY (domain),
	CONSTRAINT domains_domain_valid CHECK (
		domain <> ''
		AND domain NOT RLIKE '[@[:space:][:cntrl:]]'
		AND domain COLLATE utf8mb4_bin = LOWER(domain)
		AND OCTET_LENGTH(domain) <= 253)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- One row per mailbox. The local part is limited to 40 characters, as in the
-- guide (the login id of most mail services). password_hash is a bcrypt
-- hash ($2y$...). The primary key (domain, local) is the lookup key of the
-- authentication module and of the Postfix maps.
CREATE TABLE IF NOT EXISTS users (
	local varchar(40) NOT NULL,
	domain varchar(64) NOT NULL,
	password_hash varchar(256) NOT NULL,
	display_name varchar(40) NOT NULL,
	PRIMARY KEY (domain, local),
	CONSTRAINT users_domain_fk FOREIGN KEY (domain)
		REFERENCES domains (domain) ON DELETE RESTRICT,
	CONSTRAINT users_local_valid CHECK (
		local <> ''
		AND local NOT RLIKE '[@[:space:][:cntrl:]]'
		AND OCTET_LENGTH(local) <= 64),
	CONSTRAINT users_domain_lower CHECK (
		domain COLLATE utf8mb4_bin = LOWER(domain)),
	CONSTRAINT users_address_length CHECK (
		OCTET_LENGTH(CONCAT(local, '@', domain)) <= 254)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- Forwarding: mail to source_local@source_domain goes to the mailbox
-- destination_local@destination_domain (one destination per source, as in
-- the guide). The destination must be an existing user; deleting that user
-- deletes the aliases that point to it.
CREATE TABLE IF NOT EXISTS aliases (
	source_local varchar(40) NOT NULL,
	source_domain varchar(64) NOT NULL,
	destination_local varchar(40) NOT NULL,
	destination_domain varchar(64) NOT NULL,
	PRIMARY KEY (source_local, source_domain),
	CONSTRAINT aliases_source_domain_fk FOREIGN KEY (source_domain)
		REFERENCES domains (domain) ON DELETE RESTRICT,
	CONSTRAINT aliases_destination_fk
		FOREIGN KEY (destination_domain, destination_local)
		REFERENCES users (domain, local) ON DELETE CASCADE,
	CONSTRAINT aliases_source_local_valid CHECK (
		source_local <> ''
		AND source_local NOT RLIKE '[@[:space:][:cntrl:]]'
		AND OCTET_LENGTH(source_local) <= 64),
	CONSTRAINT aliases_domains_lower CHECK (
		source_domain COLLATE utf8mb4_bin = LOWER(source_domain)
		AND destination_domain COLLATE utf8mb4_bin =
			LOWER(destination_domain)),
	-- The destination needs no length check: it is an existing user, and
	-- users rows are checked.
	CONSTRAINT aliases_source_length CHECK (
		OCTET_LENGTH(CONCAT(source_local, '@', source_domain)) <= 254)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
