//! `watchtrail serve`: the HTTP server over the durable store.

use std::net::SocketAddr;
use std::sync::Arc;

use watchtrail_logs::LogsService;
use watchtrail_protocol::{CredentialStore, Gateway};
use watchtrail_store::Store;

use crate::config::ServeSettings;
use crate::data_dir::{root_credentials, DataDirLock};

pub async fn run(settings: ServeSettings) -> anyhow::Result<()> {
    let _lock = DataDirLock::acquire(&settings.data_dir)?;
    let (root, source) = root_credentials(&settings.data_dir, &settings.region)?;
    tracing::info!(access_key_id = %root.access_key_id, account_id = %root.account_id, credentials = ?source, "root credentials loaded");

    let store = Store::open(settings.store.clone())
        .await
        .map_err(|e| anyhow::anyhow!("opening store: {e}"))?;
    let credentials = CredentialStore::with_root(
        &root.access_key_id,
        &root.secret_access_key,
        &root.account_id,
    );
    // Every call becomes a CloudTrail record; management events are committed to the event
    // history before their response is sent.
    let history = watchtrail_cloudtrail::History::open(
        &settings.data_dir,
        std::time::Duration::from_secs(3600),
    )
    .map_err(|e| anyhow::anyhow!("opening the CloudTrail event history: {e}"))?;
    let recorder = Arc::new(watchtrail_cloudtrail::Recorder::new(
        history.clone(),
        &root.account_id,
        &settings.region,
    ));
    let s3 = watchtrail_s3::S3Endpoint::open(&settings.data_dir.join("s3"), credentials.clone())
        .map_err(|e| anyhow::anyhow!("opening the S3 buckets: {e}"))?;
    // Bound before the router is built: trails deliver to the embedded S3 endpoint on this port.
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| anyhow::anyhow!("binding {}: {e}", settings.listen))?;
    let local = listener.local_addr()?;
    let trails = watchtrail_cloudtrail::Trails::open(
        crate::trail_delivery::trails_config(
            &settings.data_dir,
            local,
            &settings.region,
            &root,
            &settings.cloudtrail,
        )?,
        Some(Arc::new(crate::trail_delivery::StoreLogGroups {
            store: store.clone(),
        })),
    )
    .map_err(|e| anyhow::anyhow!("opening CloudTrail trail state: {e}"))?;
    recorder.add_sink(trails.clone());
    let (stop_trails, trails_stopped) = tokio::sync::oneshot::channel::<()>();
    let trail_delivery = tokio::spawn(trails.clone().run(async move {
        let _ = trails_stopped.await;
    }));
    let router = Gateway::new(credentials)
        .with_service(Arc::new(LogsService::new(store.clone())))
        .with_service(Arc::new(
            watchtrail_cloudtrail::CloudTrailService::new()
                .with_trails(trails.clone())
                .with_history(history.clone()),
        ))
        .with_observer(recorder.clone())
        .with_s3(Arc::new(s3))
        .into_router();
    // Tests and scripts read this line to find an ephemeral port.
    println!("watchtrail listening on http://{local}");
    tracing::info!(%local, data_dir = %settings.data_dir.display(), "serving");

    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        // Delivered before the listener closes: the embedded S3 endpoint is on it.
        tracing::info!("shutting down: delivering spooled CloudTrail records");
        let _ = stop_trails.send(());
        let _ = trail_delivery.await;
    })
    .await?;
    history.shutdown();
    tracing::info!("shutting down: flushing the memtable");
    store
        .shutdown()
        .await
        .map_err(|e| anyhow::anyhow!("flushing on shutdown: {e}"))?;
    tracing::info!("shutdown complete");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
