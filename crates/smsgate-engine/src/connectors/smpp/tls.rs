//! TLS to an SMSC: rustls on the ring provider, trusting the system's roots
//! or a carrier's own CA file.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::SmppConfig;

/// Why TLS to an SMSC cannot be set up or opened.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TlsError {
    #[error("TLS: cannot read tls_ca_file {path}: {error}")]
    CaFile { path: String, error: String },
    #[error("TLS: no certificate in {0}")]
    NoCertificate(String),
    #[error("TLS: a certificate in {path} is unusable: {error}")]
    Unusable { path: String, error: String },
    #[error("TLS: the system has no root certificates; set tls_ca_file")]
    NoRoots,
    #[error("TLS: {0}")]
    Setup(String),
    #[error("TLS: {0:?} is not a valid server name")]
    ServerName(String),
    #[error("TLS handshake: {0}")]
    Handshake(String),
}

/// What a connector needs to open TLS connections.
#[derive(Clone)]
pub struct Tls {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

impl Tls {
    /// From the connector's settings; `Ok(None)` without `tls`.
    pub fn from_config(c: &SmppConfig) -> Result<Option<Tls>, TlsError> {
        if !c.tls {
            return Ok(None);
        }
        let mut roots = rustls::RootCertStore::empty();
        match &c.tls_ca_file {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| TlsError::CaFile {
                        path: path.display().to_string(),
                        error: e.to_string(),
                    })?;
                if certs.is_empty() {
                    return Err(TlsError::NoCertificate(path.display().to_string()));
                }
                for cert in certs {
                    roots.add(cert).map_err(|e| TlsError::Unusable {
                        path: path.display().to_string(),
                        error: e.to_string(),
                    })?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(found.certs);
                if roots.is_empty() {
                    return Err(TlsError::NoRoots);
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = c.tls_server_name.clone().unwrap_or_else(|| c.host.clone());
        let server_name =
            ServerName::try_from(name.clone()).map_err(|_| TlsError::ServerName(name.clone()))?;
        Ok(Some(Tls {
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
        }))
    }

    pub async fn connect(&self, tcp: TcpStream) -> Result<TlsStream<TcpStream>, TlsError> {
        self.connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|e| TlsError::Handshake(e.to_string()))
    }
}
