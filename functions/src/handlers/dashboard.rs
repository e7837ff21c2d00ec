//! GET /dashboard: the dashboard page.
//!
//! One self-contained page (HTML, CSS and vanilla JavaScript, no build step,
//! no CDN): the assets live in `src/dashboard/` and are inlined into the
//! page once, so the function needs no other route and works offline. The
//! page reads the JSON API from beside itself (the page's path minus
//! `dashboard`), so it works at a server's root and under an API Gateway
//! stage alike, and asks for the bearer token when the API answers 401.

use std::sync::LazyLock;

use crate::reply::Reply;
use crate::request::Call;

const INDEX: &str = include_str!("../dashboard/index.html");
const STYLE: &str = include_str!("../dashboard/style.css");
const SCRIPT: &str = include_str!("../dashboard/app.js");

/// The page, with its stylesheet and script inlined.
pub static PAGE: LazyLock<String> =
    LazyLock::new(|| INDEX.replacen("/*STYLE*/", STYLE, 1).replacen("/*SCRIPT*/", SCRIPT, 1));

/// The page's Content-Security-Policy: the inlined script and stylesheet by their hashes.
pub static POLICY: LazyLock<String> = LazyLock::new(|| crate::reply::page_policy(&PAGE));

/// Serves the page.
#[utoipa::path(get, path = "/dashboard", tag = "docs",
    responses((status = 200, description = "The dashboard page", content_type = "text/html")))]
pub async fn handle(_call: Call) -> Reply {
    crate::reply::html(PAGE.as_str(), &POLICY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_inlined_once() {
        assert_eq!(INDEX.matches("/*STYLE*/").count(), 1);
        assert_eq!(INDEX.matches("/*SCRIPT*/").count(), 1);
        assert!(PAGE.contains(STYLE) && PAGE.contains(SCRIPT));
        assert!(!PAGE.contains("/*STYLE*/") && !PAGE.contains("/*SCRIPT*/"));
        // Neither asset may end the element it is inlined into.
        assert!(!STYLE.to_ascii_lowercase().contains("</style"));
        assert!(!SCRIPT.to_ascii_lowercase().contains("</script"));
    }

    #[test]
    fn the_policy_allows_exactly_the_inlined_assets() {
        use base64::Engine;
        use sha2::Digest;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(s));
        assert!(POLICY.contains(&format!("script-src 'sha256-{}';", b64(SCRIPT))), "{}", *POLICY);
        assert!(POLICY.contains(&format!("style-src 'sha256-{}';", b64(STYLE))), "{}", *POLICY);
        assert!(!POLICY.contains("unsafe"), "{}", *POLICY);
        // Inline style attributes would be refused: styles are set through the CSSOM.
        assert!(!SCRIPT.contains("style: ") && !INDEX.contains(" style="));
    }

    #[test]
    fn nothing_is_loaded_from_elsewhere() {
        for needle in ["http://", "https://", "src=", "href=\"//", "@import", "url("] {
            let hits: Vec<&str> = PAGE.lines().filter(|l| l.contains(needle)).collect();
            // The SVG namespace is a name, not a download.
            let hits: Vec<&&str> = hits.iter().filter(|l| !l.contains("http://www.w3.org/2000/svg")).collect();
            assert!(hits.is_empty(), "{needle} in {hits:?}");
        }
        for link in PAGE.match_indices("<link").map(|(i, _)| &PAGE[i..i + PAGE[i..].find('>').unwrap_or(0)]) {
            assert!(link.contains("href=\"data:"), "{link}");
        }
    }

    #[test]
    fn api_paths_are_relative_to_the_page() {
        // An absolute path ("/queues") would miss the API Gateway stage.
        for path in ["queues", "jobs", "workers", "stats", "tasks/"] {
            assert!(SCRIPT.contains(&format!("\"{path}")) || SCRIPT.contains(&format!("`{path}")), "{path}");
            assert!(!SCRIPT.contains(&format!("\"/{path}")) && !SCRIPT.contains(&format!("`/{path}")), "/{path}");
        }
    }
}
