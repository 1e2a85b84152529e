//! Reading the PROXY protocol header (HAProxy's spec, v1 text and v2 binary) that a load
//! balancer sends before the client's own bytes.

use std::{
    io,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    task::{Context, Poll},
};

use ppp::{v1, v2};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

use crate::connection_info::ProxiedAddresses;

const V1_PREFIX: &[u8] = b"PROXY ";
const V2_SIGNATURE: &[u8] = b"\r\n\r\n\0\r\nQUIT\n";
/// The v1 spec caps a header at 107 bytes, CRLF included.
const V1_MAX_LEN: usize = 107;
/// Signature, version/command, family/protocol, then a 16-bit big-endian length.
const V2_FIXED_LEN: usize = 16;

/// Why a connection's PROXY header was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProxyHeaderError {
    #[error("the connection does not start with a PROXY protocol header")]
    Missing,
    #[error("the PROXY v1 header has no CRLF within {V1_MAX_LEN} bytes")]
    V1TooLong,
    #[error("invalid PROXY v1 header: {0}")]
    V1(#[from] v1::BinaryParseError),
    #[error("invalid PROXY v2 header: {0}")]
    V2(#[from] v2::ParseError),
    #[error("the connection closed inside the PROXY header")]
    Truncated,
    #[error("cannot read the PROXY header: {0}")]
    Io(#[from] io::Error),
}

/// Reads one PROXY header from the start of `stream`.
///
/// Returns the announced addresses (none for `LOCAL`/`UNKNOWN` headers) and the stream, which
/// replays whatever was read past the header. The caller bounds the time spent here; the size
/// is bounded by the protocol (at most 107 bytes for v1, 16 + 65535 for v2).
pub(crate) async fn read_proxy_header<S>(
    mut stream: S,
) -> Result<(Option<ProxiedAddresses>, Rewind<S>), ProxyHeaderError>
where
    S: AsyncRead + Unpin,
{
    let mut buffer = Vec::with_capacity(256);
    loop {
        match parse(&buffer)? {
            Parsed::Complete { addresses, length } => {
                let rest = buffer.split_off(length);
                return Ok((addresses, Rewind::new(stream, rest)));
            }
            Parsed::NeedMore => {
                // Reading whole chunks (rather than byte by byte) may take in the start of
                // the client's request too; `Rewind` hands those bytes back.
                let read = stream.read_buf(&mut buffer).await?;
                if read == 0 {
                    return Err(ProxyHeaderError::Truncated);
                }
            }
        }
    }
}

enum Parsed {
    Complete {
        addresses: Option<ProxiedAddresses>,
        length: usize,
    },
    NeedMore,
}

fn parse(buffer: &[u8]) -> Result<Parsed, ProxyHeaderError> {
    if buffer.len() >= V1_PREFIX.len() && buffer.starts_with(V1_PREFIX) {
        parse_v1(buffer)
    } else if buffer.len() >= V2_SIGNATURE.len() && buffer.starts_with(V2_SIGNATURE) {
        parse_v2(buffer)
    } else if V1_PREFIX.starts_with(buffer) || V2_SIGNATURE.starts_with(buffer) {
        // Too short to tell yet, but still the start of a valid header.
        Ok(Parsed::NeedMore)
    } else {
        // Refused on the first wrong byte, so a client speaking plain HTTP or TLS to a
        // PROXY listener fails at once instead of waiting for the timeout.
        Err(ProxyHeaderError::Missing)
    }
}

fn parse_v1(buffer: &[u8]) -> Result<Parsed, ProxyHeaderError> {
    let Some(cr) = buffer
        .iter()
        .take(V1_MAX_LEN)
        .position(|&byte| byte == b'\r')
    else {
        return if buffer.len() >= V1_MAX_LEN {
            Err(ProxyHeaderError::V1TooLong)
        } else {
            Ok(Parsed::NeedMore)
        };
    };
    let length = cr + 2;
    if buffer.len() < length {
        return Ok(Parsed::NeedMore);
    }
    let header = v1::Header::try_from(&buffer[..length])?;
    let addresses = match header.addresses {
        v1::Addresses::Tcp4(a) => Some(proxied(
            a.source_address,
            a.source_port,
            a.destination_address,
            a.destination_port,
        )),
        v1::Addresses::Tcp6(a) => Some(proxied(
            a.source_address,
            a.source_port,
            a.destination_address,
            a.destination_port,
        )),
        v1::Addresses::Unknown => None,
    };
    Ok(Parsed::Complete { addresses, length })
}

fn parse_v2(buffer: &[u8]) -> Result<Parsed, ProxyHeaderError> {
    if buffer.len() < V2_FIXED_LEN {
        return Ok(Parsed::NeedMore);
    }
    let payload_length = usize::from(u16::from_be_bytes([buffer[14], buffer[15]]));
    let length = V2_FIXED_LEN + payload_length;
    if buffer.len() < length {
        return Ok(Parsed::NeedMore);
    }
    let header = v2::Header::try_from(&buffer[..length])?;
    // v2 §2.2: with LOCAL the proxy speaks for itself (health checks) and the addresses must
    // be ignored; unix and unspecified families carry no IP address to report.
    let addresses = match (header.command, header.addresses) {
        (v2::Command::Proxy, v2::Addresses::IPv4(a)) => Some(proxied(
            a.source_address,
            a.source_port,
            a.destination_address,
            a.destination_port,
        )),
        (v2::Command::Proxy, v2::Addresses::IPv6(a)) => Some(proxied(
            a.source_address,
            a.source_port,
            a.destination_address,
            a.destination_port,
        )),
        _ => None,
    };
    Ok(Parsed::Complete { addresses, length })
}

fn proxied(
    source: impl Into<IpAddr>,
    source_port: u16,
    destination: impl Into<IpAddr>,
    destination_port: u16,
) -> ProxiedAddresses {
    ProxiedAddresses {
        source: SocketAddr::new(source.into(), source_port),
        destination: SocketAddr::new(destination.into(), destination_port),
    }
}

/// A stream that first yields bytes already read from it, then reads on.
pub(crate) struct Rewind<S> {
    prefix: Vec<u8>,
    position: usize,
    inner: S,
}

impl<S> Rewind<S> {
    pub(crate) fn new(inner: S, prefix: Vec<u8>) -> Self {
        Self {
            prefix,
            position: 0,
            inner,
        }
    }

    pub(crate) fn plain(inner: S) -> Self {
        Self::new(inner, Vec::new())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let remaining = &this.prefix[this.position..];
        if remaining.is_empty() {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let count = remaining.len().min(buf.remaining());
        buf.put_slice(&remaining[..count]);
        this.position += count;
        if this.position == this.prefix.len() {
            // Give the memory back: the rest of the connection reads straight through.
            this.prefix = Vec::new();
            this.position = 0;
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all_after_header(input: &[u8]) -> (Option<ProxiedAddresses>, Vec<u8>) {
        let (addresses, mut rest) = read_proxy_header(input).await.expect("the header is valid");
        let mut remaining = Vec::new();
        rest.read_to_end(&mut remaining)
            .await
            .expect("reading from a slice cannot fail");
        (addresses, remaining)
    }

    #[tokio::test]
    async fn v1_tcp4_header_gives_both_addresses_and_keeps_the_request_bytes() {
        let (addresses, rest) =
            read_all_after_header(b"PROXY TCP4 192.0.2.1 198.51.100.2 51000 443\r\nGET /").await;

        let addresses = addresses.expect("a TCP4 header names addresses");
        assert_eq!(addresses.source, "192.0.2.1:51000".parse().expect("valid"));
        assert_eq!(
            addresses.destination,
            "198.51.100.2:443".parse().expect("valid")
        );
        assert_eq!(rest, b"GET /");
    }

    #[tokio::test]
    async fn v1_unknown_header_names_no_address() {
        let (addresses, rest) = read_all_after_header(b"PROXY UNKNOWN\r\nGET /").await;

        assert_eq!(addresses, None);
        assert_eq!(rest, b"GET /");
    }

    #[tokio::test]
    async fn v2_local_header_names_no_address() {
        let mut header = V2_SIGNATURE.to_vec();
        header.extend_from_slice(&[0x20, 0x00, 0x00, 0x00]);
        header.extend_from_slice(b"GET /");

        let (addresses, rest) = read_all_after_header(&header).await;

        assert_eq!(addresses, None);
        assert_eq!(rest, b"GET /");
    }

    #[tokio::test]
    async fn plain_http_is_refused_as_a_missing_header() {
        let error = read_proxy_header(&b"GET / HTTP/1.1\r\n\r\n"[..])
            .await
            .err()
            .expect("plain HTTP is not a PROXY header");

        assert!(matches!(error, ProxyHeaderError::Missing), "{error:?}");
    }

    #[tokio::test]
    async fn a_v1_header_without_crlf_is_refused_once_it_exceeds_the_limit() {
        let mut input = b"PROXY TCP4 ".to_vec();
        input.resize(200, b'1');

        let error = read_proxy_header(&input[..])
            .await
            .err()
            .expect("an endless v1 line is refused");

        assert!(matches!(error, ProxyHeaderError::V1TooLong), "{error:?}");
    }

    #[tokio::test]
    async fn a_header_cut_short_by_the_client_is_truncated() {
        let error = read_proxy_header(&b"PROXY TCP4 192.0.2.1"[..])
            .await
            .err()
            .expect("a truncated header is refused");

        assert!(matches!(error, ProxyHeaderError::Truncated), "{error:?}");
    }
}

/// Property-based fuzzing of the PROXY header parser: whatever a peer sends first, the parser
/// asks for more, accepts a header of the length it says, or refuses; it never panics nor reads
/// past the buffer.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::{Parsed, V2_SIGNATURE, parse};

    /// The number of cases: `default`, or `PROPTEST_CASES` when set (to fuzz longer on demand).
    fn cases(default: u32) -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(default)
    }

    fn starts() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(Vec::new()),
            Just(b"PROXY ".to_vec()),
            Just(b"PROXY TCP4 ".to_vec()),
            Just(b"PROXY TCP6 ".to_vec()),
            Just(b"PROXY UNKNOWN".to_vec()),
            Just(V2_SIGNATURE.to_vec()),
            // v2, version 2 PROXY/LOCAL, each family and protocol.
            (0x20_u8..0x22, 0x00_u8..0x33).prop_map(|(command, family)| {
                let mut start = V2_SIGNATURE.to_vec();
                start.extend([command, family]);
                start
            }),
        ]
    }

    fn check(buffer: &[u8]) {
        if let Ok(Parsed::Complete { length, .. }) = parse(buffer) {
            assert!(length <= buffer.len(), "{length} > {}", buffer.len());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases(5000)))]

        #[test]
        fn any_bytes_are_parsed_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            check(&bytes);
        }

        #[test]
        fn headers_with_a_real_start_and_any_rest_are_parsed_or_refused(
            start in starts(),
            rest in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..300),
                "[0-9a-fA-F:. \\r\\n]{0,120}".prop_map(String::into_bytes),
            ],
        ) {
            let mut buffer = start;
            buffer.extend(rest);
            check(&buffer);
            // Arriving in pieces, as a slow peer sends it.
            for end in 0..buffer.len().min(64) {
                check(&buffer[..end]);
            }
        }
    }
}
