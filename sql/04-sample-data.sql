-- 04-sample-data.sql: SAMPLE DATA for tests and demos.
-- DO NOT LOAD IN PRODUCTION.
--
-- The guide's test data: the domain nahida.net, two users whose password is
-- "test1234" (a published bcrypt hash, so anyone can log in as them), and the
-- alias alias@nahida.net -> deepwood@nahida.net.
--
-- Re-runnable: a row that exists already is reset to the values below.

-- The display names are UTF-8. Without this, the mariadb client derives the
-- connection character set from the locale: latin1 under LANG=C, and the
-- server stores each UTF-8 byte as a latin1 character (garbled names);
-- utf8mb3 under C.UTF-8, which has no 4-byte characters.
SET NAMES utf8mb4;

USE mail_server;

INSERT INTO domains (domain) VALUES ('nahida.net')
	ON DUPLICATE KEY UPDATE domain = VALUES(domain);

INSERT INTO users (local, domain, password_hash, display_name) VALUES
	('1000dreams', 'nahida.net',
	 '$2y$10$T03RmF8PZVdEGvqMBA7JDe7kleiWmA8Acpoz7iUm7N44P1yiS5tnG',
	 '천일밤의꿈'),
	('deepwood', 'nahida.net',
	 '$2y$10$T03RmF8PZVdEGvqMBA7JDe7kleiWmA8Acpoz7iUm7N44P1yiS5tnG',
	 '숲의기억')
	ON DUPLICATE KEY UPDATE password_hash = VALUES(password_hash),
		display_name = VALUES(display_name);

INSERT INTO aliases
	(source_local, source_domain, destination_local, destination_domain)
	VALUES ('alias', 'nahida.net', 'deepwood', 'nahida.net')
	ON DUPLICATE KEY UPDATE destination_local = VALUES(destination_local),
		destination_domain = VALUES(destination_domain);
