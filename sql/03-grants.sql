-- 03-grants.sql: the read-only account mail_user for Dovecot and Postfix
--
-- PLACEHOLDER: this file contains the token @MAIL_USER_PASSWORD@ where the
-- password goes. It ships no password: substitute the token before loading,
-- for example
--     PW=$(openssl rand -hex 24)
--     sed "s/@MAIL_USER_PASSWORD@/$PW/g" 03-grants.sql | mariadb
-- (a password containing ' \ / or & needs escaping for sed and for SQL;
-- a hex password needs none). If the token was not substituted, or the
-- password is empty, the script stops before creating anything. Running it
-- again sets the password again (ALTER USER), so this is also the way to
-- change it; then update the Dovecot and Postfix configuration.
--
-- The guide granted with
--     GRANT SELECT ON * TO mail_user@localhost;
-- "ON *" means "all tables of the current default database": run without a
-- default database it fails with ERROR 1046 (No database selected), run
-- after "USE mail_server" it grants SELECT on every table that exists now or
-- is created later in mail_server. Here the account gets SELECT on exactly
-- the three tables and the two views of 01-schema.sql and 02-views.sql, and
-- nothing else: no INSERT, UPDATE, DELETE, no other table, no GRANT OPTION.
--
-- Two accounts with the same password and privileges:
-- - 'mail_user'@'localhost' for connections over the UNIX socket;
-- - 'mail_user'@'127.0.0.1' for TCP over loopback (hosts = 127.0.0.1 in the
--   Postfix maps, or a "host = 127.0.0.1" in Dovecot). With skip-name-resolve
--   only this account matches such a connection; without it, 127.0.0.1 is
--   resolved to 'localhost' and the first account matches. Clients that
--   connect over IPv6 (::1) or from other hosts need an account of their own.
--
-- All privileges of both accounts are revoked and then granted again, so
-- that the result is always exactly the grants below, whatever was granted
-- before (for example the guide's "ON *"). While this script runs, lookups
-- by mail_user may fail for a moment: run it outside busy hours.

-- A non-ASCII password must reach the server as the same UTF-8 bytes that
-- the clients will send.
SET NAMES utf8mb4;

DELIMITER //
BEGIN NOT ATOMIC
	-- The token is split in the second operand so that the substitution does
	-- not change it.
	IF '@MAIL_USER_PASSWORD@' IN ('', CONCAT('@MAIL_USER', '_PASSWORD@')) THEN
		SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT =
			'03-grants.sql: substitute the mail_user password placeholder first';
	END IF;
END //
DELIMITER ;

CREATE USER IF NOT EXISTS 'mail_user'@'localhost'
	IDENTIFIED BY '@MAIL_USER_PASSWORD@';
CREATE USER IF NOT EXISTS 'mail_user'@'127.0.0.1'
	IDENTIFIED BY '@MAIL_USER_PASSWORD@';
ALTER USER 'mail_user'@'localhost' IDENTIFIED BY '@MAIL_USER_PASSWORD@',
	'mail_user'@'127.0.0.1' IDENTIFIED BY '@MAIL_USER_PASSWORD@';

REVOKE ALL PRIVILEGES, GRANT OPTION
	FROM 'mail_user'@'localhost', 'mail_user'@'127.0.0.1';

GRANT SELECT ON mail_server.domains
	TO 'mail_user'@'localhost', 'mail_user'@'127.0.0.1';
GRANT SELECT ON mail_server.users
	TO 'mail_user'@'localhost', 'mail_user'@'127.0.0.1';
GRANT SELECT ON mail_server.aliases
	TO 'mail_user'@'localhost', 'mail_user'@'127.0.0.1';
GRANT SELECT ON mail_server.users_fqda
	TO 'mail_user'@'localhost', 'mail_user'@'127.0.0.1';
GRANT SELECT ON mail_server.aliases_fqda
	TO 'mail_user'@'localhost', 'mail_user'@'127.0.0.1';

-- ---------------------------------------------------------------------------
-- The rehash account mail_rehash (optional: rehash = yes in the module,
-- see doc/migration.md)
--
-- PLACEHOLDER: @MAIL_REHASH_PASSWORD@ is its password. This block does
-- nothing while the token is not substituted (or the password is empty), so
-- that the sed line above still sets up mail_user alone. With it:
--     RPW=$(openssl rand -hex 24)
--     sed -e "s/@MAIL_USER_PASSWORD@/$PW/g" \
--         -e "s/@MAIL_REHASH_PASSWORD@/$RPW/g" 03-grants.sql | mariadb
--
-- The module logs in as this account only to replace a stored password
-- with a bcrypt hash of the password a user just logged in with:
--     UPDATE users SET password_hash = :new_hash
--     WHERE domain = :domain AND local = :local AND password_hash = :old_hash
-- It gets exactly what that statement needs: UPDATE of the column
-- password_hash of users, and SELECT of the three columns its WHERE reads
-- (MariaDB requires SELECT for columns an UPDATE reads). It can read no
-- other column (no display_name), change no other column or table, insert
-- or delete no row. mail_user stays read-only. As above, all privileges are
-- revoked and granted again, for 'localhost' (socket) and '127.0.0.1' (TCP).
DELIMITER //
BEGIN NOT ATOMIC
	IF '@MAIL_REHASH_PASSWORD@' NOT IN ('', CONCAT('@MAIL_REHASH', '_PASSWORD@')) THEN
		CREATE USER IF NOT EXISTS 'mail_rehash'@'localhost'
			IDENTIFIED BY '@MAIL_REHASH_PASSWORD@';
		CREATE USER IF NOT EXISTS 'mail_rehash'@'127.0.0.1'
			IDENTIFIED BY '@MAIL_REHASH_PASSWORD@';
		ALTER USER 'mail_rehash'@'localhost' IDENTIFIED BY '@MAIL_REHASH_PASSWORD@',
			'mail_rehash'@'127.0.0.1' IDENTIFIED BY '@MAIL_REHASH_PASSWORD@';
		REVOKE ALL PRIVILEGES, GRANT OPTION
			FROM 'mail_rehash'@'localhost', 'mail_rehash'@'127.0.0.1';
		GRANT SELECT (domain, local, password_hash), UPDATE (password_hash)
			ON mail_server.users
			TO 'mail_rehash'@'localhost', 'mail_rehash'@'127.0.0.1';
	END IF;
END //
DELIMITER ;

-- ---------------------------------------------------------------------------
-- The admin commands' account mail_admin (doveadm mariadb ..., see
-- ../doc/admin.md). A block of its own, with its own placeholder
-- @MAIL_ADMIN_PASSWORD@ (substitute it like the one above; the script stops
-- here if it was not). The commands write through this account only: the
-- module and Postfix keep the read-only mail_user above.
--
-- It may do exactly what the commands do, and nothing else:
-- - domains: SELECT, INSERT, DELETE (domain add, remove, list);
-- - users: SELECT, INSERT, DELETE (user add, remove, list) and UPDATE of
--   the column password_hash only (passwd, lock, unlock): it can't rename
--   a user or move it to another domain, nor change a display name;
-- - aliases: SELECT, INSERT, DELETE (alias add, remove, list; removing a
--   user removes the aliases that point to it, the schema's ON DELETE
--   CASCADE).
-- No UPDATE of domains or aliases, no views, no other table or database,
-- no GRANT OPTION. The same two accounts as for mail_user (UNIX socket and
-- TCP over loopback); every privilege is revoked and granted again.

DELIMITER //
BEGIN NOT ATOMIC
	IF '@MAIL_ADMIN_PASSWORD@' IN ('', CONCAT('@MAIL_ADMIN', '_PASSWORD@')) THEN
		SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT =
			'03-grants.sql: substitute the mail_admin password placeholder first';
	END IF;
END //
DELIMITER ;

CREATE USER IF NOT EXISTS 'mail_admin'@'localhost'
	IDENTIFIED BY '@MAIL_ADMIN_PASSWORD@';
CREATE USER IF NOT EXISTS 'mail_admin'@'127.0.0.1'
	IDENTIFIED BY '@MAIL_ADMIN_PASSWORD@';
ALTER USER 'mail_admin'@'localhost' IDENTIFIED BY '@MAIL_ADMIN_PASSWORD@',
	'mail_admin'@'127.0.0.1' IDENTIFIED BY '@MAIL_ADMIN_PASSWORD@';

REVOKE ALL PRIVILEGES, GRANT OPTION
	FROM 'mail_admin'@'localhost', 'mail_admin'@'127.0.0.1';

GRANT SELECT, INSERT, DELETE ON mail_server.domains
	TO 'mail_admin'@'localhost', 'mail_admin'@'127.0.0.1';
GRANT SELECT, INSERT, DELETE, UPDATE (password_hash) ON mail_server.users
	TO 'mail_admin'@'localhost', 'mail_admin'@'127.0.0.1';
GRANT SELECT, INSERT, DELETE ON mail_server.aliases
	TO 'mail_admin'@'localhost', 'mail_admin'@'127.0.0.1';
