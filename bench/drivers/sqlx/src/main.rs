use std::time::Instant;
#[tokio::main(flavor = "current_thread")]
async fn main() {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect("postgres://postgres@127.0.0.1/drivers")
        .await
        .unwrap();
    sqlx::raw_sql("DROP TABLE IF EXISTS t; CREATE TABLE t (id BIGSERIAL PRIMARY KEY, a BIGINT NOT NULL, b TEXT NOT NULL)").execute(&mut c).await.unwrap();
    let n = 20_000i64;
    let per = 100i64;
    let t0 = Instant::now();
    for k in 0..n / per {
        let mut tx = c.begin().await.unwrap();
        for i in 0..per {
            sqlx::query("INSERT INTO t (a, b) VALUES ($1, $2)")
                .bind(k * per + i)
                .bind("hello world")
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
    println!(
        "sqlx per-row: {:.1} us/row",
        t0.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t0 = Instant::now();
    for k in 0..n / per {
        let a: Vec<i64> = (0..per).map(|i| k * per + i).collect();
        let b: Vec<String> = (0..per).map(|_| "hello world".to_string()).collect();
        let mut tx = c.begin().await.unwrap();
        sqlx::query("INSERT INTO t (a, b) SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[])")
            .bind(&a)
            .bind(&b)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    println!(
        "sqlx unnest: {:.1} us/row",
        t0.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t0 = Instant::now();
    for i in 1..=n {
        let r: (i64, String) = sqlx::query_as("SELECT a, b FROM t WHERE id = $1")
            .bind(i)
            .fetch_one(&mut c)
            .await
            .unwrap();
        let _ = r;
    }
    println!(
        "sqlx point read: {:.1} us/read",
        t0.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
