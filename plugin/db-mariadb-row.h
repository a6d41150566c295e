#ifndef DB_MARIADB_ROW_H
#define DB_MARIADB_ROW_H

/* A row that a lookup returned: its columns as strings. */
struct db_mariadb_field {
	const char *name;
	/* NULL for SQL NULL */
	const char *value;
};

struct db_mariadb_row {
	const struct db_mariadb_field *fields;
	unsigned int count;
};

/* a row with no fields, for lookups that found nothing */
extern const struct db_mariadb_row db_mariadb_no_row;

/* Find a field by name (case doesn't matter), NULL if the row has none. */
const struct db_mariadb_field *
db_mariadb_row_find(const struct db_mariadb_row *row, const char *name);

#endif
