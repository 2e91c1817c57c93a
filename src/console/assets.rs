//! The console's web page, built into the binary: `index.html`, its
//! stylesheet and its ES modules from `src/console/assets/` (see the
//! README there), served with their content types and an `ETag` so a
//! browser revalidates instead of running a stale copy after an upgrade.
//! Nothing is fetched from elsewhere.
//!
//! - `GET /console` and `GET /console/`: the page;
//! - `GET /console/assets/{file}`: one of its files, 404 for any other name.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// Declares the embedded files: name and content type; the bytes come from
/// `assets/<name>`.
macro_rules! assets {
    ($($name:literal => $type:expr),* $(,)?) => {
        &[$(Asset { name: $name, content_type: $type, bytes: include_bytes!(concat!("assets/", $name)) }),*]
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file of the page. `index.html` is the page itself.
static ASSETS: &[Asset] = assets! {
    "index.html" => HTML,
    "style.css" => CSS,
    "app.js" => JS,
    "auth.js" => JS,
    "dom.js" => JS,
    "execution.js" => JS,
    "forms.js" => JS,
    "graphql.js" => JS,
    "json.js" => JS,
    "layout.js" => JS,
    "live.js" => JS,
    "machines.js" => JS,
    "render.js" => JS,
    "router.js" => JS,
};

/// The page's Content-Security-Policy: its own files only, no inline
/// script, and connections (GraphQL over HTTP and WebSocket) to its own
/// origin.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The routes of the page, for any router state.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/console", get(page))
        .route("/console/", get(page))
        .route("/console/assets/{file}", get(file))
}

async fn page(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&name, &headers)
}

/// The response for embedded file `name`: 200 with the file, 304 when the
/// request's `If-None-Match` names its current `ETag`, or 404.
fn serve(name: &str, request: &HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("no console file named {name:?}\n"),
        )
            .into_response();
    };
    let etag = format!("\"{:016x}\"", fnv1a(asset.bytes));
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.bytes.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    // Revalidated at every use: the names carry no version, and a new
    // binary brings new files.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(tag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, tag);
    }
    if asset.content_type == HTML {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    response
}

/// FNV-1a, 64 bits: a stable fingerprint of a file for its `ETag`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    async fn body(response: Response) -> Vec<u8> {
        response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec()
    }

    fn header_of(response: &Response, name: header::HeaderName) -> &str {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn every_file_is_served_with_its_content_type() {
        for asset in ASSETS {
            let response = serve(asset.name, &HeaderMap::new());
            assert_eq!(response.status(), StatusCode::OK, "{}", asset.name);
            let expected = match asset.name.rsplit('.').next() {
                Some("html") => HTML,
                Some("js") => JS,
                Some("css") => CSS,
                other => panic!("unexpected extension {other:?}"),
            };
            assert_eq!(header_of(&response, header::CONTENT_TYPE), expected);
            assert_eq!(header_of(&response, header::CACHE_CONTROL), "no-cache");
            assert!(header_of(&response, header::ETAG).starts_with('"'));
            assert_eq!(body(response).await, asset.bytes, "{}", asset.name);
        }
    }

    #[tokio::test]
    async fn a_matching_etag_is_answered_not_modified() {
        let first = serve("app.js", &HeaderMap::new());
        let etag = header_of(&first, header::ETAG).to_string();
        let mut request = HeaderMap::new();
        request.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"0\", {etag}")).expect("header"),
        );
        let again = serve("app.js", &request);
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(body(again).await.is_empty());
        request.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert_eq!(serve("app.js", &request).status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn an_unknown_name_is_not_found() {
        for name in ["nope.js", "../Cargo.toml", "", "assets.rs"] {
            let response = serve(name, &HeaderMap::new());
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{name}");
            assert!(
                String::from_utf8(body(response).await)
                    .unwrap()
                    .contains("no console file")
            );
        }
    }

    #[test]
    fn the_page_loads_only_embedded_files() {
        let page = std::str::from_utf8(ASSETS[0].bytes).expect("utf-8");
        assert_eq!(ASSETS[0].name, "index.html");
        assert!(!page.contains("http://") && !page.contains("https://"));
        for reference in page.split("/console/assets/").skip(1) {
            let name: String = reference.chars().take_while(|c| *c != '"').collect();
            assert!(
                ASSETS.iter().any(|a| a.name == name),
                "{name} is not embedded"
            );
        }
        // Every module a module imports is embedded too.
        for asset in ASSETS.iter().filter(|a| a.content_type == JS) {
            let text = std::str::from_utf8(asset.bytes).expect("utf-8");
            for import in text.split("from './").skip(1) {
                let name: String = import.chars().take_while(|c| *c != '\'').collect();
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "{} imports {name}",
                    asset.name
                );
            }
        }
    }

    /// The routes, served for real: the page at both addresses, a file,
    /// and a 404.
    #[tokio::test]
    async fn the_routes_serve_the_page_and_its_files() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            axum::serve(listener, routes::<()>()).await.expect("serve");
        });
        for (path, status, kind) in [
            ("/console", 200, HTML),
            ("/console/", 200, HTML),
            ("/console/assets/style.css", 200, CSS),
            ("/console/assets/layout.js", 200, JS),
            ("/console/assets/missing.js", 404, "text/plain"),
        ] {
            let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            stream
                .write_all(
                    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                )
                .await
                .expect("write");
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.expect("read");
            assert!(
                answer.starts_with(&format!("HTTP/1.1 {status} ")),
                "{path}: {answer}"
            );
            assert!(
                answer
                    .to_lowercase()
                    .contains(&format!("content-type: {kind}")),
                "{path}: {answer}"
            );
        }
        server.abort();
    }
}
