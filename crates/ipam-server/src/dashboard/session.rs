//! Who is looking at the dashboard. The page shows every access scope (the operations, the
//! log, the tables), so a viewer needs a role on \Global, like the event log over gRPC.
//!
//! A person signs in with a token (`POST /login`); the server answers with an HttpOnly,
//! SameSite=Strict cookie holding it, so no script on the page can read it and no other
//! site can send it. Every `/api` request is checked again against the tables, so a revoked
//! token, or a policy that no longer reaches \Global, ends the session at its next request;
//! an open event stream checks at each of its flushes. Scripts may send
//! `authorization: Bearer <token>` instead of the cookie. `/metrics` needs nothing: it
//! shows counts, no rows.

use super::Dashboard;
use crate::auth::{AuthMode, Authenticated};
use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ipam_core::access::{Authority, Grants};
use ipam_jobs::Caller;

pub const COOKIE: &str = "ipam_session";

/// The viewer of a request, as the middleware found it.
#[derive(Clone)]
pub struct Viewer {
    pub who: Authenticated,
    /// The token the viewer signed in with (None without authentication).
    token: Option<String>,
}

impl Viewer {
    /// Whether the viewer may still look (its token is valid and reaches \Global).
    pub fn still_allowed(&self, d: &Dashboard) -> bool {
        match &self.token {
            None => true,
            Some(t) => admit(d, t).is_ok(),
        }
    }
}

/// `/session` (who is signed in, if anyone), `/login` and `/logout`.
pub fn routes() -> Router<Dashboard> {
    Router::new()
        .route("/session", get(session))
        .route("/login", post(login))
        .route("/logout", post(logout))
}

/// Why a request may not see the dashboard: 401 (no valid token) or 403 (no role on
/// \Global), answered as JSON the page reads.
pub struct Refusal {
    status: StatusCode,
    message: String,
}

fn refused(status: StatusCode, message: String) -> Refusal {
    Refusal { status, message }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message, "login": true })),
        )
            .into_response()
    }
}

/// The viewer `token` authenticates, if it may see the dashboard.
fn admit(d: &Dashboard, token: &str) -> Result<Viewer, Refusal> {
    let who = d
        .auth
        .by_token(token)
        .map_err(|s| refused(StatusCode::UNAUTHORIZED, s.message().to_string()))?;
    if let Authority::Principal(p) = who.authority()
        && !d.app.engine.read(|s| Grants::global_reader(&s.access, p))
    {
        return Err(refused(
            StatusCode::FORBIDDEN,
            format!(
                "{p} may not open the dashboard: it shows every access scope, and needs a role on \\Global"
            ),
        ));
    }
    Ok(Viewer {
        who,
        token: Some(token.to_string()),
    })
}

/// The token a request carries: `authorization: Bearer`, else the session cookie.
fn presented(headers: &HeaderMap) -> Option<String> {
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The viewer of a request, or the refusal to answer it with.
fn viewer(d: &Dashboard, headers: &HeaderMap) -> Result<Viewer, Refusal> {
    match d.auth.mode {
        AuthMode::None => Ok(Viewer {
            who: Authenticated {
                caller: Caller::server("anonymous"),
                method: "none",
            },
            token: None,
        }),
        AuthMode::Token => match presented(headers) {
            None => Err(refused(StatusCode::UNAUTHORIZED, "sign in with a token".into())),
            Some(token) => admit(d, &token),
        },
    }
}

/// The middleware of every `/api` route.
pub async fn require_viewer(State(d): State<Dashboard>, mut request: Request, next: Next) -> Response {
    match viewer(&d, request.headers()) {
        Ok(v) => {
            request.extensions_mut().insert(v);
            next.run(request).await
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// Whether the request's session lets it see the page: always 200, so a page that is
/// signed out asks without an error.
async fn session(State(d): State<Dashboard>, headers: HeaderMap) -> Json<serde_json::Value> {
    Json(match viewer(&d, &headers) {
        Ok(v) => serde_json::json!({
            "signed_in": true,
            "principal": v.who.caller.principal.as_ref(),
            "method": v.who.method,
        }),
        Err(_) if presented(&headers).is_none() => serde_json::json!({ "signed_in": false }),
        Err(_) => serde_json::json!({
            "signed_in": false,
            "error": "the session's token is unknown, revoked or expired, or has no role on \\Global",
        }),
    })
}

/// `POST /login` with the token as the body (`token=...` as a form, or the bare token).
async fn login(State(d): State<Dashboard>, body: String) -> Response {
    let token = body.trim();
    let token = token.strip_prefix("token=").unwrap_or(token).trim();
    if d.auth.mode == AuthMode::None {
        return Json(serde_json::json!({ "principal": "anonymous" })).into_response();
    }
    let viewer = match admit(&d, token) {
        Ok(v) => v,
        Err(refusal) => return refusal.into_response(),
    };
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
    let mut response = Json(serde_json::json!({
        "principal": viewer.who.caller.principal.as_ref(),
    }))
    .into_response();
    match HeaderValue::from_str(&cookie) {
        Ok(value) => {
            response.headers_mut().insert(header::SET_COOKIE, value);
            response
        }
        // A token is hex and underscores; anything else was not a token.
        Err(_) => refused(
            StatusCode::UNAUTHORIZED,
            "the token is unknown, revoked or expired".into(),
        )
        .into_response(),
    }
}

async fn logout() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("ipam_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_bearer_header_or_the_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h), None);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; ipam_session=ipam_ab_cd"),
        );
        assert_eq!(presented(&h).as_deref(), Some("ipam_ab_cd"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer ipam_12_34"),
        );
        assert_eq!(presented(&h).as_deref(), Some("ipam_12_34"));
    }
}
