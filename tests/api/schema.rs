//! The SQLite and PostgreSQL migration trees describe one schema: both are
//! applied (by the verifier, as at start-up) and read back from each database's
//! catalogue as comparable facts: tables, columns with normalised types and
//! nullability, primary keys, foreign keys, indexes (unique or not), `IN (…)`
//! check constraints, and the audit log's guard triggers.

use recordpass_tests::{postgres, test_vault};
use recordpass_verifier::Store;
use sqlx::{Connection as _, PgConnection, Row as _, SqliteConnection};
use std::collections::BTreeSet;

type Facts = BTreeSet<String>;

#[tokio::test]
async fn both_migration_trees_build_the_same_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!("sqlite://{}", dir.path().join("schema.db").display());
    let pg_url = postgres::cluster().create_database().await;
    for url in [&sqlite_url, &pg_url] {
        Store::open(url, test_vault())
            .await
            .expect("migrations apply");
    }
    let (sqlite, triggers) = sqlite_facts(&sqlite_url).await;
    let (pg, pg_triggers) = postgres_facts(&pg_url).await;

    // The reading itself works: a few facts known to be in the schema.
    for fact in [
        "column submissions.user_verified integer not null",
        "column passkeys.last_used_at integer null",
        "column submissions.signature blob not null",
        "primary key submissions (request_number)",
        "foreign key submissions (credential_id) -> passkeys (credential_id)",
        "unique index submissions (ceremony_id)",
        "index rate_limit_events (bucket, at)",
        "check staff.role in ['admin', 'auditor', 'specialist']",
    ] {
        assert!(sqlite.contains(fact), "SQLite lacks {fact}");
    }
    let only_sqlite: Vec<_> = sqlite.difference(&pg).collect();
    let only_pg: Vec<_> = pg.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "the schemas drifted\n only in SQLite: {only_sqlite:#?}\n only in PostgreSQL: {only_pg:#?}"
    );
    // PostgreSQL also refuses TRUNCATE, which SQLite does not have.
    let missing: Vec<_> = triggers.difference(&pg_triggers).collect();
    assert!(
        missing.is_empty(),
        "triggers missing in PostgreSQL: {missing:?}"
    );
    assert!(triggers.contains("trigger audit_log.audit_log_no_update"));
}

/// Facts about the schema, and its triggers, read from SQLite's catalogue.
async fn sqlite_facts(url: &str) -> (Facts, Facts) {
    let mut db = SqliteConnection::connect(url).await.expect("open");
    let mut facts = Facts::new();
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
    )
    .fetch_all(&mut db)
    .await
    .expect("tables");
    for (table, sql) in &tables {
        facts.insert(format!("table {table}"));
        let columns = sqlx::query(
            r#"SELECT name, type, "notnull", pk FROM pragma_table_info($1) ORDER BY pk"#,
        )
        .bind(table)
        .fetch_all(&mut db)
        .await
        .expect("columns");
        let mut primary = Vec::new();
        for c in &columns {
            let name: String = c.get("name");
            let pk: i64 = c.get("pk");
            // SQLite lets primary-key columns hold NULL unless told not to;
            // the verifier never stores one, and PostgreSQL forbids it.
            let not_null = c.get::<i64, _>("notnull") != 0 || pk > 0;
            let ty = normalised(&c.get::<String, _>("type"));
            facts.insert(column(table, &name, &ty, not_null));
            if pk > 0 {
                primary.push(name);
            }
        }
        if !primary.is_empty() {
            facts.insert(format!("primary key {table} ({})", primary.join(", ")));
        }
        let fks = sqlx::query(r#"SELECT "from", "table", "to" FROM pragma_foreign_key_list($1)"#)
            .bind(table)
            .fetch_all(&mut db)
            .await
            .expect("foreign keys");
        for fk in &fks {
            facts.insert(format!(
                "foreign key {table} ({}) -> {} ({})",
                fk.get::<String, _>("from"),
                fk.get::<String, _>("table"),
                fk.get::<String, _>("to")
            ));
        }
        let indexes =
            sqlx::query(r#"SELECT name, "unique" FROM pragma_index_list($1) WHERE origin <> 'pk'"#)
                .bind(table)
                .fetch_all(&mut db)
                .await
                .expect("indexes");
        for index in &indexes {
            let name: String = index.get("name");
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(&mut db)
                    .await
                    .expect("index columns");
            facts.insert(index_fact(
                table,
                index.get::<i64, _>("unique") != 0,
                &columns,
            ));
        }
        let mut rest = sql.as_str();
        while let Some(at) = rest.find("CHECK (") {
            let (expr, after) = parenthesised(&rest[at + "CHECK ".len()..]);
            facts.insert(check(table, expr));
            rest = after;
        }
    }
    let triggers: Vec<(String, String)> =
        sqlx::query_as("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(&mut db)
            .await
            .expect("triggers");
    let triggers = triggers
        .iter()
        .map(|(table, name)| format!("trigger {table}.{name}"))
        .collect();
    (facts, triggers)
}

/// Facts about the schema, and its triggers, read from PostgreSQL's catalogue.
async fn postgres_facts(url: &str) -> (Facts, Facts) {
    let mut db = PgConnection::connect(url).await.expect("connect");
    let mut facts = Facts::new();
    let columns: Vec<(String, String, String, bool)> = sqlx::query_as(
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
           AND c.relname NOT LIKE '\\_sqlx%' AND a.attnum > 0 AND NOT a.attisdropped",
    )
    .fetch_all(&mut db)
    .await
    .expect("columns");
    for (table, name, ty, not_null) in &columns {
        facts.insert(format!("table {table}"));
        facts.insert(column(table, name, &normalised(ty), *not_null));
    }
    let indexes: Vec<(String, bool, bool, String)> = sqlx::query_as(
        "SELECT t.relname::text, i.indisprimary, i.indisunique,
                array_to_string(ARRAY(
                    SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                    ORDER BY k.n), ', ')
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
         WHERE t.relnamespace = 'public'::regnamespace AND t.relname NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&mut db)
    .await
    .expect("indexes");
    for (table, primary, unique, columns) in &indexes {
        facts.insert(if *primary {
            format!("primary key {table} ({columns})")
        } else {
            let columns: Vec<String> = columns.split(", ").map(str::to_owned).collect();
            index_fact(table, *unique, &columns)
        });
    }
    let fks: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, a.attname::text, c.confrelid::regclass::text, f.attname::text
         FROM pg_constraint c
         CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, fcol)
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
         JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = k.fcol
         WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace",
    )
    .fetch_all(&mut db)
    .await
    .expect("foreign keys");
    for (table, from, target, to) in &fks {
        facts.insert(format!("foreign key {table} ({from}) -> {target} ({to})"));
    }
    let checks: Vec<(String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE contype = 'c' AND connamespace = 'public'::regnamespace",
    )
    .fetch_all(&mut db)
    .await
    .expect("checks");
    for (table, def) in &checks {
        let (expr, _) = parenthesised(def.trim_start_matches("CHECK "));
        facts.insert(check(table, expr));
    }
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT tgrelid::regclass::text, tgname::text FROM pg_trigger WHERE NOT tgisinternal",
    )
    .fetch_all(&mut db)
    .await
    .expect("triggers");
    let triggers = triggers
        .iter()
        .map(|(table, name)| format!("trigger {table}.{name}"))
        .collect();
    (facts, triggers)
}

/// One storage class per kind of value, named after SQLite's.
fn normalised(ty: &str) -> String {
    match ty.to_ascii_lowercase().as_str() {
        "integer" | "bigint" => "integer".into(),
        "text" => "text".into(),
        "blob" | "bytea" => "blob".into(),
        other => format!("unexpected type {other}"),
    }
}

fn column(table: &str, name: &str, ty: &str, not_null: bool) -> String {
    let null = if not_null { "not null" } else { "null" };
    format!("column {table}.{name} {ty} {null}")
}

fn index_fact(table: &str, unique: bool, columns: &[String]) -> String {
    let kind = if unique { "unique index" } else { "index" };
    format!("{kind} {table} ({})", columns.join(", "))
}

/// `col IN ('a', 'b')` (SQLite) and `(col = ANY (ARRAY['a'::text, 'b'::text]))`
/// (PostgreSQL's rendering) both become `check table.col in ['a', 'b']`.
fn check(table: &str, expr: &str) -> String {
    let expr = expr.trim_start_matches('(');
    let column: String = expr
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let mut values: Vec<&str> = expr.split('\'').skip(1).step_by(2).collect();
    values.sort_unstable();
    let values: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
    format!("check {table}.{column} in [{}]", values.join(", "))
}

/// Splits `(inner) rest` into `inner` and `rest` (parentheses balanced).
fn parenthesised(text: &str) -> (&str, &str) {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return (&text[1..i], &text[i + 1..]);
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in {text}")
}

#[tokio::test]
async fn a_release_starts_on_a_database_a_later_release_migrated() {
    // A rolling upgrade or a rollback: the database holds a migration this
    // binary does not know. It must start (migrations are additive) and be ready.
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!("sqlite://{}", dir.path().join("later.db").display());
    let pg_url = postgres::cluster().create_database().await;
    for url in [&sqlite_url, &pg_url] {
        let store = Store::open(url, test_vault())
            .await
            .expect("migrations apply");
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (99990101000000, 'a later release', TRUE, $1, 0)",
        )
        .bind(vec![0u8; 48])
        .execute(store.pool())
        .await
        .expect("a later release's migration recorded");
        let reopened = Store::open(url, test_vault())
            .await
            .unwrap_or_else(|e| panic!("{url}: starts on the later schema: {e}"));
        reopened.check_ready().await.expect("ready");
    }
}
