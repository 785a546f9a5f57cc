//! TLS to PostgreSQL (`sslmode=verify-full`): the verifier checks the server's
//! certificate against `sslrootcert` (or the system's trust store).

use recordpass_tests::{postgres, test_vault};
use recordpass_verifier::{Error, Store};

#[tokio::test]
async fn postgres_over_tls_checks_the_server_certificate() {
    let cluster = postgres::cluster();
    let url = cluster.create_database().await;

    let trusted = format!(
        "{url}?sslmode=verify-full&sslrootcert={}",
        cluster.ca_file().display()
    );
    let store = Store::open(&trusted, test_vault())
        .await
        .expect("TLS with the cluster's CA");
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(store.pool())
            .await
            .expect("pg_stat_ssl");
    assert!(encrypted, "the connection is encrypted");

    // The test CA is in no system trust store: the server is not believed.
    let refused = Store::open(&format!("{url}?sslmode=verify-full"), test_vault()).await;
    let Err(Error::Database(e)) = refused else {
        panic!("connected to an untrusted server: {refused:?}")
    };
    assert!(format!("{e:?}").contains("UnknownIssuer"), "{e:?}");
}
