//! One server = one thread running a single-threaded tokio runtime.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, TcpListener as StdListener};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// A running server; stopping it (or dropping it) ends the accept loop and drops every
/// connection task with the runtime.
pub(crate) struct ServerHandle {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// Binds `127.0.0.1:port` (0 = any free port). Loopback only, always.
    pub(crate) fn bind(port: u16) -> io::Result<StdListener> {
        StdListener::bind((Ipv4Addr::LOCALHOST, port))
    }

    /// Serves each connection accepted on `std_listener` (from [`ServerHandle::bind`]) with
    /// `serve` on a fresh task.
    pub(crate) fn start<F, Fut>(
        name: &str,
        std_listener: StdListener,
        serve: F,
    ) -> io::Result<ServerHandle>
    where
        F: Fn(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        std_listener.set_nonblocking(true)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _guard = rt.enter();
            TcpListener::from_std(std_listener)?
        };
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("techo-demo-{name}"))
            .spawn(move || {
                let local = tokio::task::LocalSet::new();
                local.block_on(&rt, async move {
                    let accept = async {
                        loop {
                            match listener.accept().await {
                                Ok((stream, _)) => {
                                    let _ = stream.set_nodelay(true);
                                    tokio::task::spawn_local(serve(stream));
                                }
                                // Out of file descriptors and the like: back off, keep serving.
                                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                            }
                        }
                    };
                    tokio::select! {
                        _ = accept => {}
                        _ = stop_rx => {}
                    }
                });
                // Dropping the LocalSet and the runtime drops every connection task.
                drop(local);
                rt.shutdown_timeout(Duration::from_secs(1));
            })?;
        Ok(ServerHandle {
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub(crate) fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
