//! The web UI (SPEC §12): the list with filters, text search, badges and
//! the four stats; "waiting for me"; the new-request form; the detail page
//! with its timeline and Approve / Reject. Server-rendered from askama
//! templates (checked at compile time, HTML-escaped), a little progressive
//! JavaScript at most: every page works without it.
//!
//! Pages call the same engine as the API ([`super::api::acting`]): what a
//! button does is what `ipr approve` does, and a button is shown only when
//! [`crate::query::View::allowed`] says the commit would not be refused.
//! Sign-in is by API token, then a session cookie ([`super::session`]);
//! forms carry a CSRF token.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::api::acting;
use super::{auth, session, ApiError, App, MAX_BODY, REQUEST_TIMEOUT};
use crate::error::{Error, Problem};
use crate::model::{
    Impact, PreChecks, RequestDetails, RequestId, Spec, State as TicketState, Target, TargetType,
    Ticket, MIN_JUSTIFICATION, MIN_REJECT_REASON,
};
use crate::query::{Allowed, Filter, Stats, View};
use crate::session::Session;
use crate::store::Store;
use crate::workflow::Transition;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(list_page))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/requests", post(create))
        .route("/requests/new", get(new_page))
        .route("/requests/{id}", get(detail_page))
        .route("/requests/{id}/{action}", post(act))
        .route("/assets/ui.css", get(css))
        .route("/assets/ui.js", get(js))
        .layer(axum::middleware::map_response(security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            super::metrics::track,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(app)
}

/// Pages may load only their own CSS and script, submit only to this
/// server, and not be framed: a ticket's text cannot run or exfiltrate.
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", include_str!("assets/ui.css"))
}

async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("assets/ui.js"),
    )
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

// ---- who is looking ------------------------------------------------------

/// A browser's request: its session cookie, or an auth proxy's header.
struct Visitor {
    peer: SocketAddr,
    headers: HeaderMap,
    /// The token hash the session cookie names, when its MAC holds.
    session: Option<String>,
}

impl Visitor {
    fn new(app: &App, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap) -> Visitor {
        let session =
            session::cookie_of(&headers).and_then(|value| app.session_key.open(&value, Utc::now()));
        Visitor {
            peer,
            headers,
            session,
        }
    }

    /// Who the visitor is under `config`.
    fn authenticate(
        &self,
        config: &crate::config::Config,
    ) -> std::result::Result<String, ApiError> {
        if let Some(hash) = &self.session {
            return auth::user_of_hash(config, hash);
        }
        if let Some(user) = auth::user_of_proxy(config, &self.headers, self.peer.ip()) {
            return user;
        }
        Err(ApiError::unauthorized("sign in"))
    }

    /// What this visitor's CSRF tokens are bound to: their session, or
    /// the user an auth proxy names.
    fn principal(&self, session: &Session) -> String {
        match &self.session {
            Some(hash) => format!("session:{hash}"),
            None => format!("proxy:{}", session.actor.email.to_lowercase()),
        }
    }
}

/// Run `f` for the visitor; an error becomes a page (401: the sign-in
/// page, coming back to `here` after). `form` is the CSRF token a form
/// sent: a form writes, and only with the token of this visitor.
async fn page<F>(
    app: &Arc<App>,
    visitor: Visitor,
    form: Option<String>,
    here: String,
    f: F,
) -> Response
where
    F: FnOnce(&Store, &Session, Nav) -> std::result::Result<Response, ApiError> + Send + 'static,
{
    let key = app.session_key.clone();
    let visitor = Arc::new(visitor);
    let who = visitor.clone();
    let result = acting(
        app,
        form.is_some(),
        move |config| who.authenticate(config),
        move |store, session| {
            let principal = visitor.principal(session);
            if let Some(given) = form {
                check_csrf(&key, &principal, &given)?;
            }
            let csrf = key.csrf(&principal);
            let nav = Nav {
                user: Some(session.actor.email.clone()),
                csrf,
                ..Nav::default()
            };
            f(store, session, nav)
        },
    )
    .await;
    result.unwrap_or_else(|e| error_page(e, &here))
}

/// The top of every page.
#[derive(Debug, Default)]
struct Nav {
    user: Option<String>,
    csrf: String,
    /// Which tab is current: list, pending, new.
    here: &'static str,
    /// Pending requests the user may approve.
    waiting: usize,
    warning: Option<String>,
    toast: Option<Toast>,
}

impl Nav {
    fn with(self, view: &View<'_>, here: &'static str) -> std::result::Result<Nav, ApiError> {
        let waiting = view.pending_for_me()?.tickets.len();
        Ok(self.counted(view, here, waiting))
    }

    /// [`Nav::with`] when the waiting count is known already.
    fn counted(mut self, view: &View<'_>, here: &'static str, waiting: usize) -> Nav {
        self.here = here;
        self.waiting = waiting;
        self.warning = view.warning();
        self
    }
}

#[derive(Debug)]
struct Toast {
    kind: &'static str,
    text: String,
}

impl Toast {
    fn ok(text: impl Into<String>) -> Option<Toast> {
        Some(Toast {
            kind: "ok",
            text: text.into(),
        })
    }

    fn error(text: impl Into<String>) -> Option<Toast> {
        Some(Toast {
            kind: "error",
            text: text.into(),
        })
    }
}

fn render<T: Template>(status: StatusCode, page: &T) -> std::result::Result<Response, ApiError> {
    let html = page
        .render()
        .map_err(|e| Error::other(format!("page: {e}")))?;
    Ok((status, Html(html)).into_response())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Nav,
    title: String,
    detail: String,
    hint: Option<String>,
}

/// An error as a page; 401 sends the browser to sign in.
fn error_page(e: ApiError, here: &str) -> Response {
    if e.status == StatusCode::UNAUTHORIZED {
        let next = url::form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>();
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    let text = |key: &str| e.body.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let title = match e.status {
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::CONFLICT => "Conflict",
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "Not accepted",
        _ => "Something went wrong",
    };
    let page = ErrorPage {
        nav: Nav::default(),
        title: title.into(),
        detail: text("detail").unwrap_or_default(),
        hint: text("hint"),
    };
    render(e.status, &page).unwrap_or_else(|_| e.status.into_response())
}

/// A form's CSRF token must be the visitor's.
fn check_csrf(
    key: &session::SessionKey,
    principal: &str,
    given: &str,
) -> std::result::Result<(), ApiError> {
    if key.check_csrf(principal, given) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "this form is stale or was not sent from this site; reload the page and try again",
        ))
    }
}

// ---- sign in -------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    next: String,
    error: Option<String>,
    /// Also in the `ipr_login` cookie (SameSite=Strict): a sign-in form
    /// sent from another site lacks it, so no one can sign a browser in
    /// as someone else.
    nonce: String,
}

/// The sign-in page with a fresh nonce in the form and its cookie.
fn login_form(status: StatusCode, next: String, error: Option<String>) -> Response {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        return ApiError::from(Error::other("no randomness")).into_response();
    }
    let nonce = crate::model::hex(&bytes);
    let page = LoginPage {
        nav: Nav::default(),
        next,
        error,
        nonce: nonce.clone(),
    };
    let mut r = render(status, &page).unwrap_or_else(|e| e.into_response());
    if let Ok(v) = HeaderValue::from_str(&session::login_cookie(&nonce)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Debug, Default, Deserialize)]
struct LoginQuery {
    #[serde(default)]
    next: String,
}

async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    login_form(StatusCode::OK, local_path(&q.next), None)
}

#[derive(Debug, Default, Deserialize)]
struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    nonce: String,
}

/// A path on this server to go back to, never another site.
fn local_path(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok {
        next.to_string()
    } else {
        "/".into()
    }
}

async fn login(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = local_path(&form.next);
    let nonce = session::login_cookie_of(&headers);
    if form.nonce.is_empty() || nonce.as_deref() != Some(form.nonce.as_str()) {
        return login_form(
            StatusCode::FORBIDDEN,
            next,
            Some("this sign-in form is stale or was not sent from this site; try again".into()),
        );
    }
    let hash = auth::token_hash(&form.token);
    let checked = app.clone();
    let check = move || -> std::result::Result<(String, bool), ApiError> {
        let store = Store::open(Some(&checked.repo))?;
        let config = if store.has_remotes() {
            super::follow_remote(&store)?
        } else {
            crate::trust::check(&store, store.head()?)?.config()?
        };
        auth::user_of_hash(&config, &hash)?;
        let secure = config
            .server
            .as_ref()
            .and_then(|s| s.url.as_ref())
            .is_some_and(|u| u.scheme() == "https");
        Ok((hash, secure))
    };
    match tokio::task::spawn_blocking(check).await {
        Ok(Ok((hash, secure))) => {
            let value = app.session_key.issue(&hash, Utc::now());
            let mut r = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&session::set_cookie(&value, secure)) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Ok(Err(e)) => {
            let status = e.status;
            let detail = e
                .body
                .get("detail")
                .and_then(|d| d.as_str())
                .unwrap_or("sign-in failed")
                .to_string();
            login_form(status, next, Some(detail))
        }
        Err(e) => ApiError::from(Error::other(format!("server: {e}"))).into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let visitor = Visitor::new(&app, info, headers);
    page(
        &app,
        visitor,
        Some(form.csrf),
        "/".into(),
        move |_, _, _| {
            let mut r = Redirect::to("/login").into_response();
            if let Ok(v) = HeaderValue::from_str(&session::clear_cookie(false)) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(r)
        },
    )
    .await
}

// ---- the list ------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    q: String,
    /// `pending` (waiting for me) or `mine`.
    #[serde(default)]
    view: String,
}

/// One row of the list.
struct Row {
    id: String,
    target: String,
    version: String,
    envs: String,
    tenant: String,
    impact: String,
    state: String,
    approvals: String,
    created_by: String,
    created: String,
    created_iso: String,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    nav: Nav,
    heading: String,
    stats: Stats,
    rows: Vec<Row>,
    states: Vec<&'static str>,
    tenants: Vec<String>,
    state: String,
    tenant: String,
    q: String,
    view: String,
}

fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn list_page(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let visitor = Visitor::new(&app, info, headers);
    page(
        &app,
        visitor,
        None,
        "/".into(),
        move |store, session, nav| {
            let view = View::open(store, session)?;
            let state = match q.state.as_str() {
                "" => None,
                s => Some(s.parse::<TicketState>().map_err(|e| {
                    ApiError::new(StatusCode::BAD_REQUEST, "bad-request", e.message())
                })?),
            };
            let (here, heading, pending, mine) = match q.view.as_str() {
                "pending" => ("pending", "Waiting for me", true, false),
                "mine" => ("list", "My requests", false, true),
                _ => ("list", "Promotion requests", false, false),
            };
            let filter = Filter {
                state,
                tenant: (!q.tenant.is_empty()).then(|| q.tenant.clone()),
                created_by: None,
                mine,
                pending,
                text: (!q.q.trim().is_empty()).then(|| q.q.clone()),
            };
            // One read of the tickets for the stats, the count and the rows.
            let overview = view.overview(&filter)?;
            let mut shown = overview.tickets;
            // Newest first, as a reviewer reads a queue.
            shown.reverse();
            let rows = shown
                .iter()
                .map(|t| {
                    let s = &t.spec.target;
                    Row {
                        id: t.id().to_string(),
                        target: s.name.clone(),
                        version: s.version.clone(),
                        envs: format!("{} → {}", s.source_environment, s.target_environment),
                        tenant: t.metadata.tenant.clone(),
                        impact: t.spec.request.impact_assessment.to_string(),
                        state: t.status.state.to_string(),
                        approvals: format!(
                            "{}/{}",
                            t.approvers().len(),
                            view.required_approvals(t)
                        ),
                        created_by: t.metadata.created_by.clone(),
                        created: when(&t.metadata.created_at),
                        created_iso: t.metadata.created_at.to_rfc3339(),
                    }
                })
                .collect();
            let page = ListPage {
                nav: nav.counted(&view, here, overview.waiting),
                heading: heading.into(),
                stats: overview.stats,
                rows,
                states: TicketState::ALL.iter().map(|s| s.as_str()).collect(),
                tenants: overview.tenants,
                state: q.state,
                tenant: q.tenant,
                q: q.q,
                view: match q.view.as_str() {
                    "pending" | "mine" => q.view,
                    _ => String::new(),
                },
            };
            render(StatusCode::OK, &page)
        },
    )
    .await
}

// ---- the detail page -----------------------------------------------------

struct Event {
    action: String,
    by: String,
    at: String,
    at_iso: String,
    detail: Option<String>,
}

/// A ticket as the detail page shows it.
struct TicketView {
    id: String,
    kind: String,
    name: String,
    version: String,
    source: String,
    target: String,
    tenant: String,
    state: String,
    approvals: usize,
    need: u32,
    created_by: String,
    created: String,
    created_iso: String,
    scheduled: Option<String>,
    justification: String,
    release_notes: Option<String>,
    impact: String,
    rollback: String,
    rejection: Option<String>,
    staging: bool,
    security: bool,
    performance: bool,
    evidence: String,
    /// Only an http(s) URL becomes a link.
    evidence_link: bool,
    timeline: Vec<Event>,
    /// What a pending request still needs ("1 of dba").
    needs: Vec<String>,
}

impl TicketView {
    fn of(t: &Ticket, need: u32, needs: Vec<String>) -> TicketView {
        let s = &t.spec;
        let timeline = t
            .status
            .history
            .iter()
            .map(|e| {
                let mut detail = Vec::new();
                if let Some(c) = &e.comment {
                    detail.push(c.clone());
                }
                if let (Some(r), Some(j)) = (&e.runner, &e.job_id) {
                    detail.push(format!("runner {r}, job {j}"));
                }
                if let Some(d) = &e.deployment_id {
                    detail.push(format!("deployment {d}"));
                }
                if let Some(err) = &e.error {
                    detail.push(err.clone());
                }
                if let Some(b) = &e.break_glass {
                    detail.push(format!("break-glass: {b}"));
                }
                if let Some(r) = &e.report {
                    detail.push(format!("incident report: {r}"));
                }
                Event {
                    action: e.action.to_string(),
                    by: e.by.clone(),
                    at: when(&e.at),
                    at_iso: e.at.to_rfc3339(),
                    detail: (!detail.is_empty()).then(|| detail.join("\n")),
                }
            })
            .collect();
        TicketView {
            id: t.id().to_string(),
            kind: s.target.kind.to_string(),
            name: s.target.name.clone(),
            version: s.target.version.clone(),
            source: s.target.source_environment.clone(),
            target: s.target.target_environment.clone(),
            tenant: t.metadata.tenant.clone(),
            state: t.status.state.to_string(),
            approvals: t.approvers().len(),
            need,
            created_by: t.metadata.created_by.clone(),
            created: when(&t.metadata.created_at),
            created_iso: t.metadata.created_at.to_rfc3339(),
            scheduled: s
                .request
                .scheduled_date
                .map(|d| when(&d.with_timezone(&Utc))),
            justification: s.request.justification.clone(),
            release_notes: s
                .request
                .release_notes
                .clone()
                .filter(|n| !n.trim().is_empty()),
            impact: s.request.impact_assessment.to_string(),
            rollback: s.request.rollback_plan.clone(),
            rejection: t.status.rejection_reason.clone(),
            staging: s.pre_checks.staging_tests_passed,
            security: s.pre_checks.security_scan_passed,
            performance: s.pre_checks.performance_tests_passed,
            evidence: s.pre_checks.test_evidence_url.to_string(),
            evidence_link: matches!(s.pre_checks.test_evidence_url.scheme(), "http" | "https"),
            timeline,
            needs,
        }
    }
}

#[derive(Template)]
#[template(path = "detail.html")]
struct DetailPage {
    nav: Nav,
    t: TicketView,
    allowed: Allowed,
    min_reason: usize,
    /// The reason typed, when a rejection was refused.
    reason: String,
    reason_error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DetailQuery {
    /// What was just done, for the toast (fixed texts: nothing from the
    /// URL is shown).
    #[serde(default)]
    done: String,
}

fn id_of(text: &str) -> std::result::Result<RequestId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such request"))
}

/// The detail page of `id`, with `toast` and what a refused rejection said.
fn detail(
    store: &Store,
    session: &Session,
    nav: Nav,
    id: RequestId,
    status: StatusCode,
    toast: Option<Toast>,
    rejected: Option<(String, String)>,
) -> std::result::Result<Response, ApiError> {
    let view = View::open(store, session)?;
    let ticket = view.show(id)?;
    let mut nav = nav.with(&view, "list")?;
    nav.toast = toast;
    let (reason, reason_error) = match rejected {
        Some((reason, error)) => (reason, Some(error)),
        None => (String::new(), None),
    };
    let page = DetailPage {
        t: TicketView::of(
            &ticket,
            view.required_approvals(&ticket),
            if ticket.status.state == crate::model::State::Pending {
                crate::approvals::needs(view.config(), &ticket).missing
            } else {
                Vec::new()
            },
        ),
        allowed: view.allowed(&ticket),
        nav,
        min_reason: MIN_REJECT_REASON,
        reason,
        reason_error,
    };
    render(status, &page)
}

async fn detail_page(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let here = format!(
        "/requests/{}",
        url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
    );
    let visitor = Visitor::new(&app, info, headers);
    page(&app, visitor, None, here, move |store, session, nav| {
        let id = id_of(&id)?;
        let toast = match q.done.as_str() {
            "created" => Toast::ok(format!("{id} filed. Approvers are notified.")),
            "approved" => Toast::ok(format!("{id} approved.")),
            "rejected" => Toast::ok(format!("{id} rejected.")),
            "cancelled" => Toast::ok(format!("{id} cancelled.")),
            _ => None,
        };
        detail(store, session, nav, id, StatusCode::OK, toast, None)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    comment: Option<String>,
    reason: Option<String>,
}

/// `POST /requests/{id}/approve|reject|cancel`: the transition, then back
/// to the page with a toast; a refusal shows the page with why.
async fn act(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    let here = "/".to_string();
    let visitor = Visitor::new(&app, info, headers);
    let csrf = form.csrf.clone();
    let server = app.clone();
    page(
        &app,
        visitor,
        Some(csrf),
        here,
        move |store, session, nav| {
            let id = id_of(&id)?;
            let text = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
            let (transition, done) = match action.as_str() {
                "approve" => (
                    Transition::Approve {
                        comment: text(&form.comment),
                    },
                    "approved",
                ),
                "reject" => (
                    Transition::Reject {
                        reason: form.reason.clone().unwrap_or_default(),
                    },
                    "rejected",
                ),
                "cancel" => (
                    Transition::Cancel {
                        reason: text(&form.reason),
                    },
                    "cancelled",
                ),
                _ => {
                    return Err(ApiError::new(
                        StatusCode::NOT_FOUND,
                        "not-found",
                        "no such action",
                    ))
                }
            };
            match super::api::act(&server, store, session, id, &transition) {
                Ok(_) => Ok(Redirect::to(&format!("/requests/{id}?done={done}")).into_response()),
                Err(e) => {
                    // The refusal, on the page, as the CLI words it.
                    let status = super::status(e.kind());
                    let why = e.message().to_string();
                    let rejected = (action == "reject")
                        .then(|| (form.reason.clone().unwrap_or_default(), why.clone()));
                    detail(store, session, nav, id, status, Toast::error(why), rejected)
                }
            }
        },
    )
    .await
}

// ---- the new-request form ------------------------------------------------

/// The form as typed: kept to be shown again with the errors.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tenant: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    source_environment: String,
    #[serde(default)]
    target_environment: String,
    #[serde(default)]
    justification: String,
    #[serde(default)]
    release_notes: String,
    #[serde(default)]
    impact_assessment: String,
    #[serde(default)]
    rollback_plan: String,
    #[serde(default)]
    scheduled_date: String,
    staging_tests_passed: Option<String>,
    security_scan_passed: Option<String>,
    performance_tests_passed: Option<String>,
    #[serde(default)]
    test_evidence_url: String,
}

/// What the template shows in the fields.
#[derive(Debug, Default)]
struct FormValues {
    tenant: String,
    kind: String,
    name: String,
    version: String,
    source_environment: String,
    target_environment: String,
    justification: String,
    release_notes: String,
    impact: String,
    rollback_plan: String,
    scheduled_date: String,
    staging: bool,
    security: bool,
    performance: bool,
    evidence: String,
}

impl From<&NewForm> for FormValues {
    fn from(f: &NewForm) -> FormValues {
        FormValues {
            tenant: f.tenant.clone(),
            kind: f.kind.clone(),
            name: f.name.clone(),
            version: f.version.clone(),
            source_environment: f.source_environment.clone(),
            target_environment: f.target_environment.clone(),
            justification: f.justification.clone(),
            release_notes: f.release_notes.clone(),
            impact: f.impact_assessment.clone(),
            rollback_plan: f.rollback_plan.clone(),
            scheduled_date: f.scheduled_date.clone(),
            staging: f.staging_tests_passed.is_some(),
            security: f.security_scan_passed.is_some(),
            performance: f.performance_tests_passed.is_some(),
            evidence: f.test_evidence_url.clone(),
        }
    }
}

/// A problem next to its field (the form's field name; "" for the form).
struct FieldProblem {
    field: String,
    message: String,
}

#[derive(Template)]
#[template(path = "new.html")]
struct NewPage {
    nav: Nav,
    form: FormValues,
    problems: Vec<FieldProblem>,
    tenants: Vec<String>,
    kinds: Vec<&'static str>,
    impacts: Vec<&'static str>,
    min_justification: usize,
}

impl NewPage {
    fn new(
        view: &View<'_>,
        session: &Session,
        nav: Nav,
        form: FormValues,
        problems: Vec<FieldProblem>,
    ) -> std::result::Result<NewPage, ApiError> {
        let config = view.config();
        let mine = config
            .user(&session.actor.email)
            .map(|u| u.tenants.clone())
            .unwrap_or_default();
        let tenants = if mine.is_empty() {
            config.tenants.clone()
        } else {
            mine
        };
        Ok(NewPage {
            nav: nav.with(view, "new")?,
            form,
            problems,
            tenants,
            kinds: TargetType::ALL.iter().map(|k| k.as_str()).collect(),
            impacts: Impact::ALL.iter().map(|k| k.as_str()).collect(),
            min_justification: MIN_JUSTIFICATION,
        })
    }
}

async fn new_page(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let visitor = Visitor::new(&app, info, headers);
    page(
        &app,
        visitor,
        None,
        "/requests/new".into(),
        |store, session, nav| {
            let view = View::open(store, session)?;
            let form = FormValues {
                source_environment: "staging".into(),
                target_environment: "prod".into(),
                impact: "medium".into(),
                kind: "api".into(),
                ..FormValues::default()
            };
            render(
                StatusCode::OK,
                &NewPage::new(&view, session, nav, form, Vec::new())?,
            )
        },
    )
    .await
}

/// A problem of [`crate::workflow::validate_new`] next to its form field,
/// worded for the form (without the document's key).
fn field_problem(p: &Problem) -> FieldProblem {
    let message = match p.message.strip_prefix(p.field.as_str()) {
        Some(rest) if !p.field.is_empty() => {
            let rest = rest.trim_start_matches(':').trim_start();
            let mut chars = rest.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => p.message.clone(),
            }
        }
        _ => p.message.clone(),
    };
    FieldProblem {
        field: field_of(p),
        message,
    }
}

/// The form field a problem of [`crate::workflow::validate_new`] is about.
fn field_of(problem: &Problem) -> String {
    let f = problem.field.as_str();
    for prefix in [
        "spec.target.",
        "spec.request.",
        "spec.preChecks.",
        "metadata.",
    ] {
        if let Some(rest) = f.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    match f {
        "spec.target" => "target".into(),
        _ => String::new(),
    }
}

/// The spec the form asks for, or what is wrong with its fields. Values
/// that do not parse are reported next to their fields, and the rest is
/// still checked by the rules of `ipr create` so that all errors show at
/// once.
fn spec_of(
    f: &NewForm,
    tenant: &str,
    config: &crate::config::Config,
) -> std::result::Result<Spec, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut bad = |field: &str, message: String| {
        problems.push(FieldProblem {
            field: field.into(),
            message,
        })
    };
    let kind = f.kind.parse::<TargetType>().unwrap_or_else(|e| {
        bad("type", e.message().to_string());
        TargetType::Api
    });
    let impact = f.impact_assessment.parse::<Impact>().unwrap_or_else(|e| {
        bad("impactAssessment", e.message().to_string());
        Impact::Low
    });
    let placeholder =
        url::Url::parse("https://example.invalid/").unwrap_or_else(|_| unreachable!());
    let evidence = if f.test_evidence_url.trim().is_empty() {
        bad(
            "testEvidenceUrl",
            "a link to the test evidence is required".into(),
        );
        placeholder
    } else {
        crate::model::parse_url(&f.test_evidence_url, "test evidence URL").unwrap_or_else(|e| {
            bad("testEvidenceUrl", e.message().to_string());
            placeholder
        })
    };
    let scheduled = match f.scheduled_date.trim() {
        "" => None,
        // `datetime-local` sends no zone: the form says UTC.
        s if s.len() == 16 => crate::model::parse_datetime(&format!("{s}:00Z"), "scheduled date")
            .map_err(|e| e.message().to_string())
            .map(Some)
            .unwrap_or_else(|e| {
                bad("scheduledDate", e);
                None
            }),
        s => crate::model::parse_datetime(s, "scheduled date")
            .map(Some)
            .unwrap_or_else(|e| {
                bad("scheduledDate", e.message().to_string());
                None
            }),
    };
    let spec = Spec {
        target: Target {
            kind,
            name: f.name.trim().to_string(),
            version: f.version.trim().to_string(),
            source_environment: f.source_environment.trim().to_string(),
            target_environment: f.target_environment.trim().to_string(),
        },
        request: RequestDetails {
            justification: f.justification.clone(),
            release_notes: Some(f.release_notes.clone()).filter(|n| !n.trim().is_empty()),
            impact_assessment: impact,
            rollback_plan: f.rollback_plan.clone(),
            scheduled_date: scheduled,
        },
        pre_checks: PreChecks {
            staging_tests_passed: f.staging_tests_passed.is_some(),
            security_scan_passed: f.security_scan_passed.is_some(),
            performance_tests_passed: f.performance_tests_passed.is_some(),
            test_evidence_url: evidence,
        },
        plan: None,
        promoted_from: None,
    };
    if problems.is_empty() {
        return Ok(spec);
    }
    if let Err(e) = crate::workflow::validate_new(&spec, tenant, config) {
        for p in e.problem_list() {
            let problem = field_problem(p);
            if !problems.iter().any(|q| q.field == problem.field) {
                problems.push(problem);
            }
        }
    }
    Err(problems)
}

async fn create(
    State(app): State<Arc<App>>,
    info: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<NewForm>,
) -> Response {
    let visitor = Visitor::new(&app, info, headers);
    let csrf = form.csrf.clone();
    page(
        &app,
        visitor,
        Some(csrf),
        "/requests/new".into(),
        move |store, session, nav| {
            let view = View::open(store, session)?;
            let tenant = (!form.tenant.trim().is_empty()).then(|| form.tenant.trim().to_string());
            let again = |nav: Nav, status: StatusCode, problems: Vec<FieldProblem>| {
                let page = NewPage::new(&view, session, nav, FormValues::from(&form), problems)?;
                render(status, &page)
            };
            let spec = match spec_of(&form, tenant.as_deref().unwrap_or_default(), view.config()) {
                Ok(spec) => spec,
                Err(problems) => return again(nav, StatusCode::UNPROCESSABLE_ENTITY, problems),
            };
            match super::api::file(store, session, spec, tenant.as_deref()) {
                Ok(done) => Ok(Redirect::to(&format!(
                    "/requests/{}?done=created",
                    done.ticket.id()
                ))
                .into_response()),
                Err(e) => {
                    let mut problems: Vec<FieldProblem> =
                        e.problem_list().iter().map(field_problem).collect();
                    if problems.is_empty() {
                        problems.push(FieldProblem {
                            field: String::new(),
                            message: e.message().to_string(),
                        });
                    }
                    let status = ApiError::from(e).status;
                    again(nav, status, problems)
                }
            }
        },
    )
    .await
}
