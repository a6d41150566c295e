-- 02-views.sql: the guide's "fqda" views (fully qualified address), kept for
-- compatibility with queries written for the guide.
--
-- Neither the authentication module nor the maps in postfix/ use these views,
-- and new queries should not either: a lookup such as
--     SELECT ... FROM users_fqda WHERE fqda = 'deepwood@nahida.net'
-- compares a computed CONCAT() and cannot use the primary key (domain, local),
-- so MariaDB reads every row of users for every lookup. Query the base tables
-- with local and domain split instead (local = '%u' AND domain = '%d' in
-- Postfix).
--
-- Changes from the guide: CREATE OR REPLACE, so that the script can be run
-- again; an explicit JOIN instead of the comma join (same result); and
-- SQL SECURITY INVOKER: the view is read with the privileges of whoever
-- queries it (mail_user has SELECT on the base tables, 03-grants.sql), not
-- with those of the administrator who loaded this script, so a view can
-- never show more than its reader may see, and keeps working if that
-- administrator's account is dropped.

-- A view records the connection character set it was created with; fix it
-- so that every run creates the same view whatever the client's locale.
SET NAMES utf8mb4;

USE mail_server;

CREATE OR REPLACE SQL SECURITY INVOKER VIEW users_fqda AS
	SELECT CONCAT(users.local, '@', domains.domain) AS fqda,
		users.password_hash, users.display_name
	FROM users JOIN domains ON users.domain = domains.domain;

CREATE OR REPLACE SQL SECURITY INVOKER VIEW aliases_fqda AS
	SELECT CONCAT(source_local, '@', source_domain) AS fqda
	FROM aliases;
