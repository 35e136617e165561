//! A TCP proxy on loopback in front of PostgreSQL. It can be switched down (every connection
//! closed, new ones accepted and dropped at once) and up again, and it counts round trips: each
//! time a client speaks to the server after the server last answered it, however many messages
//! it sends at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    port: u16,
    up: watch::Sender<bool>,
    round_trips: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy to the PostgreSQL server that `url` names.
    pub async fn to(url: &str) -> Proxy {
        let url = reqwest::Url::parse(url).expect("a valid PostgreSQL URL");
        let upstream = format!(
            "{}:{}",
            url.host_str().unwrap_or("127.0.0.1"),
            url.port().unwrap_or(5432)
        );
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the proxy binds");
        let port = listener.local_addr().unwrap().port();
        let (up, state) = watch::channel(true);
        let round_trips = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&round_trips);
        let task = tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !*state.borrow() {
                    drop(inbound);
                    continue;
                }
                let mut state = state.clone();
                let upstream = upstream.clone();
                let counted = Arc::clone(&counted);
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = relay(inbound, outbound, &counted) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy {
            port,
            up,
            round_trips,
            task,
        }
    }

    /// `url`, a PostgreSQL URL, through this proxy: its host and port replaced, the rest kept.
    pub fn url_through(&self, url: &str) -> String {
        let mut url = reqwest::Url::parse(url).expect("a valid PostgreSQL URL");
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.to_string()
    }

    pub fn switch(&self, up: bool) {
        self.up.send_replace(up);
    }

    /// The round trips so far, once none has begun for 100 ms: a connection goes back to the
    /// pool (and is checked there) after the answer that used it has left.
    pub async fn settled_round_trips(&self) -> usize {
        let mut seen = self.round_trips.load(Ordering::SeqCst);
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.round_trips.load(Ordering::SeqCst);
            if now == seen {
                return now;
            }
            seen = now;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.switch(false);
        self.task.abort();
    }
}

/// Passes bytes both ways until either side closes, counting a round trip whenever the client
/// speaks first after an answer.
async fn relay(
    mut client: TcpStream,
    mut server: TcpStream,
    round_trips: &AtomicUsize,
) -> std::io::Result<()> {
    let (mut from_client, mut to_client) = client.split();
    let (mut from_server, mut to_server) = server.split();
    let (mut asked, mut answered) = (vec![0; 16 * 1024], vec![0; 16 * 1024]);
    let mut awaiting_answer = false;
    loop {
        tokio::select! {
            read = from_client.read(&mut asked) => {
                let n = read?;
                if n == 0 {
                    return Ok(());
                }
                if !awaiting_answer {
                    round_trips.fetch_add(1, Ordering::SeqCst);
                    awaiting_answer = true;
                }
                to_server.write_all(&asked[..n]).await?;
            }
            read = from_server.read(&mut answered) => {
                let n = read?;
                if n == 0 {
                    return Ok(());
                }
                awaiting_answer = false;
                to_client.write_all(&answered[..n]).await?;
            }
        }
    }
}
