use std::time::Instant;
fn main() {
    let mut c = postgres::Client::connect(
        "host=127.0.0.1 user=postgres dbname=drivers",
        postgres::NoTls,
    )
    .unwrap();
    c.batch_execute("DROP TABLE IF EXISTS t; CREATE TABLE t (id BIGSERIAL PRIMARY KEY, a BIGINT NOT NULL, b TEXT NOT NULL)").unwrap();
    let n = 20_000i64;
    let per = 100i64;
    let ins = c.prepare("INSERT INTO t (a, b) VALUES ($1, $2)").unwrap();
    let t0 = Instant::now();
    for k in 0..n / per {
        let mut tx = c.transaction().unwrap();
        for i in 0..per {
            tx.execute(&ins, &[&(k * per + i), &"hello world"]).unwrap();
        }
        tx.commit().unwrap();
    }
    let d = t0.elapsed();
    println!(
        "postgres per-row: {:.1} us/row",
        d.as_secs_f64() * 1e6 / n as f64
    );
    let un = c
        .prepare("INSERT INTO t (a, b) SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[])")
        .unwrap();
    let t0 = Instant::now();
    for k in 0..n / per {
        let a: Vec<i64> = (0..per).map(|i| k * per + i).collect();
        let b: Vec<&str> = (0..per).map(|_| "hello world").collect();
        let mut tx = c.transaction().unwrap();
        tx.execute(&un, &[&a, &b]).unwrap();
        tx.commit().unwrap();
    }
    let d = t0.elapsed();
    println!(
        "postgres unnest: {:.1} us/row",
        d.as_secs_f64() * 1e6 / n as f64
    );
    let sel = c.prepare("SELECT a, b FROM t WHERE id = $1").unwrap();
    let t0 = Instant::now();
    for i in 1..=n {
        let r = c.query_one(&sel, &[&i]).unwrap();
        let _: i64 = r.get(0);
    }
    println!(
        "postgres point read: {:.1} us/read",
        t0.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
