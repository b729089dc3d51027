//! TLS to an SMSC: rustls on the ring provider, trusting the system's roots
//! or a carrier's own CA file.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::SmppConfig;

/// What a connector needs to open TLS connections.
#[derive(Clone)]
pub struct Tls {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

impl Tls {
    /// From the connector's settings; `Ok(None)` without `tls`.
    pub fn from_config(c: &SmppConfig) -> Result<Option<Tls>, String> {
        if !c.tls {
            return Ok(None);
        }
        let mut roots = rustls::RootCertStore::empty();
        match &c.tls_ca_file {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| format!("TLS: cannot read tls_ca_file {}: {e}", path.display()))?;
                if certs.is_empty() {
                    return Err(format!("TLS: no certificate in {}", path.display()));
                }
                for cert in certs {
                    roots.add(cert).map_err(|e| {
                        format!("TLS: a certificate in {} is unusable: {e}", path.display())
                    })?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
                if roots.is_empty() {
                    return Err("TLS: the system has no root certificates; set tls_ca_file".into());
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = c.tls_server_name.clone().unwrap_or_else(|| c.host.clone());
        let server_name = ServerName::try_from(name.clone())
            .map_err(|_| format!("TLS: {name:?} is not a valid server name"))?;
        Ok(Some(Tls {
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
        }))
    }

    pub async fn connect(&self, tcp: TcpStream) -> Result<TlsStream<TcpStream>, String> {
        self.connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))
    }
}
