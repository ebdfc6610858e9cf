//! The login dialog's rules (spec §2.1, §4): which app and redirect a dialog may use, what it
//! may ask a person for, what the consent changes in the grant, and where the browser goes
//! back to with a code or a token. The pages themselves are the server's.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::codes::DeviceCode;
use crate::codes::{AuthCode, CodeKind, Pkce, PkceMethod};
use crate::error::GraphError;
use crate::events::Event;
use crate::model::{App, AppId, Grant, PageId, User, UserId};
use crate::permissions::{self, PUBLIC_PROFILE};
use crate::policy::{self, Access};
use crate::request::Params;
use crate::services::Services;

/// Why a dialog shows an error page instead of going anywhere: the browser is never sent to a
/// `redirect_uri` that was not checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status of the error page.
    pub status: u16,
    pub title: &'static str,
    pub message: String,
    /// Small print, such as "This message is only shown to developers".
    pub detail: Option<&'static str>,
}

impl Refusal {
    fn new(title: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status: 400,
            title,
            message: message.into(),
            detail: None,
        }
    }
    fn invalid_app() -> Self {
        Refusal::new(
            "Invalid App ID",
            "The provided app ID does not look like a valid app ID.",
        )
    }
    /// A development-mode app and a person with no role on it (spec §4).
    pub fn app_not_active() -> Self {
        let mut r = Refusal::new(
            "App not active",
            "This app is not currently accessible and the app developer is aware of the issue. \
             You will be able to log in when the app is reactivated.",
        );
        r.status = 403;
        r
    }
}

/// `response_type`: any of `code`, `token` and `granted_scopes`, space or comma separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseType {
    pub code: bool,
    pub token: bool,
    pub granted_scopes: bool,
}

impl ResponseType {
    pub fn parse(s: Option<&str>) -> Option<Self> {
        let mut r = ResponseType {
            code: false,
            token: false,
            granted_scopes: false,
        };
        for part in s
            .unwrap_or("")
            .split([' ', ',', '+'])
            .filter(|p| !p.is_empty())
        {
            match part {
                "code" => r.code = true,
                "token" => r.token = true,
                "granted_scopes" => r.granted_scopes = true,
                _ => return None,
            }
        }
        if !r.code && !r.token {
            r.code = true; // the default, also alongside `granted_scopes` alone
        }
        Some(r)
    }
    /// Token answers go in the fragment, so the server never sees them (spec §2.1).
    fn in_fragment(self) -> bool {
        self.token
    }
}

/// `auth_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthType {
    Normal,
    /// Ask again for permissions the person declined.
    Rerequest,
    /// Ask for the password again, even when signed in.
    Reauthenticate,
    /// Renew data access (a login renews it anyway).
    Reauthorize,
}

/// The Graph API Explorer's own redirect (a path on graphtoken itself), which the dialog takes
/// for every app while the console is served (emulator mode), as Facebook's Explorer may log in
/// to any app of its developer.
pub const CONSOLE_CALLBACK: &str = "/tools/explorer/callback";

/// A dialog whose app, redirect and parameters have been checked.
#[derive(Clone, Debug)]
pub struct Dialog {
    pub app: App,
    pub redirect_uri: String,
    pub state: Option<String>,
    /// The permissions asked for, known names, in order, without duplicates.
    pub scopes: Vec<String>,
    pub response: ResponseType,
    pub auth_type: AuthType,
    pub pkce: Option<Pkce>,
}

/// Checks a dialog's parameters in the order Facebook does: the app, then the redirect (no
/// redirect happens before both are known good), then the rest.
pub async fn open(g: &Services, p: &Params) -> Result<Dialog, Refusal> {
    let app_id = p.non_empty("client_id").ok_or_else(|| {
        Refusal::new(
            "Invalid App ID",
            "The parameter app_id is required, but it was not given.",
        )
    })?;
    let app = match app_id.trim().parse::<AppId>() {
        Ok(id) => g.app(id).await.map_err(|_| server_error())?,
        Err(_) => None,
    }
    .ok_or_else(Refusal::invalid_app)?;
    let redirect_uri = p
        .non_empty("redirect_uri")
        .ok_or_else(|| Refusal::new("Error", "The parameter redirect_uri is required."))?;
    let console = g.console() && redirect_uri == CONSOLE_CALLBACK;
    if !console && !app.redirect_uris.iter().any(|u| u == redirect_uri) {
        let mut r = Refusal::new(
            "URL blocked",
            "This redirect failed because the redirect URI is not whitelisted in the app's \
             Client OAuth Settings. Make sure Client and Web OAuth Login are on and add all \
             your app domains as Valid OAuth Redirect URIs.",
        );
        r.detail = Some(
            "graphtoken: add the exact redirect_uri to the app's redirect_uris in the seed file.",
        );
        return Err(r);
    }
    let scopes = permissions::parse_scope(p.get("scope").unwrap_or("")).map_err(|invalid| {
        let mut r = Refusal::new(
            "Invalid Scopes",
            format!(
                "Invalid Scopes: {}. This message is only shown to developers. Users of your \
                 app will ignore these permissions if present. Please read the documentation \
                 for valid permissions at: \
                 https://developers.facebook.com/docs/facebook-login/permissions",
                invalid.join(", ")
            ),
        );
        r.detail = Some("graphtoken knows the permissions listed in docs/compatibility.md.");
        r
    })?;
    let response = ResponseType::parse(p.get("response_type")).ok_or_else(|| {
        Refusal::new(
            "Error",
            format!(
                "Invalid response_type: {}. Use code, token, or granted_scopes.",
                p.get("response_type").unwrap_or("")
            ),
        )
    })?;
    let auth_type = match p.get("auth_type").unwrap_or("") {
        "rerequest" => AuthType::Rerequest,
        "reauthenticate" => AuthType::Reauthenticate,
        "reauthorize" => AuthType::Reauthorize,
        _ => AuthType::Normal,
    };
    let pkce = match p.non_empty("code_challenge") {
        None => None,
        Some(challenge) => {
            let method = PkceMethod::parse(p.get("code_challenge_method")).ok_or_else(|| {
                Refusal::new("Error", "Invalid code_challenge_method. Use S256 or plain.")
            })?;
            let ok_len = (43..=128).contains(&challenge.len());
            let ok_chars = challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !ok_len || !ok_chars {
                return Err(Refusal::new(
                    "Error",
                    "Invalid code_challenge: it must be 43 to 128 characters of A-Z, a-z, 0-9, \"-\", \".\", \"_\" and \"~\".",
                ));
            }
            Some(Pkce {
                method,
                challenge: challenge.to_string(),
            })
        }
    };
    // The Explorer's own redirect carries a code only, bound to an S256 challenge its desk holds:
    // no token in a URL, and no code anyone else could redeem.
    let s256 = pkce.as_ref().is_some_and(|p| p.method == PkceMethod::S256);
    if console && (response.token || response.granted_scopes || !response.code || !s256) {
        return Err(Refusal::new(
            "Error",
            "The Graph API Explorer's redirect takes response_type=code with an S256 \
             code_challenge only.",
        ));
    }
    Ok(Dialog {
        app: (*app).clone(),
        redirect_uri: redirect_uri.to_string(),
        state: p.get("state").map(str::to_string),
        scopes,
        response,
        auth_type,
        pkce,
    })
}

fn server_error() -> Refusal {
    let mut r = Refusal::new(
        "Sorry, something went wrong",
        "We're working on getting this fixed as soon as we can. Please try again.",
    );
    r.status = 500;
    r
}

/// What the person is asked for, having signed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ask {
    /// Permissions shown with a toggle (`public_profile` is not among them: it is always on).
    pub toggles: Vec<String>,
    /// True when some toggles are permissions the person declined before.
    pub rerequest: bool,
    /// The person's Pages, to choose which the app may use, when the app asks for a Page
    /// permission for the first time or re-requests (empty: no Page step).
    pub pages: Vec<PageChoice>,
}

/// A Page on the consent page's Page step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageChoice {
    pub id: PageId,
    pub name: String,
    /// Ticked: chosen before, or (no choice made yet) every Page.
    pub chosen: bool,
}

/// What the dialog does once it knows the person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    Refuse(Refusal),
    /// Show the consent page.
    Ask(Ask),
    /// Nothing new to ask: straight back to the app (the grant is renewed).
    Return,
}

/// The login rule for `user` and `app` ([`policy::Access`]): whether they hold a role on it, or
/// are one of its test users.
async fn access(g: &Services, app: &App, user: UserId) -> Result<Access, GraphError> {
    let test_user_of_app = g
        .store
        .test_user(user)
        .await?
        .is_some_and(|t| t.app_id == app.id);
    Ok(Access::of(app, user, test_user_of_app))
}

/// Decides what the dialog does for `user` (signed in): refuse, ask, or go straight back.
pub async fn next(g: &Services, d: &Dialog, user: UserId) -> Result<Next, GraphError> {
    let access = access(g, &d.app, user).await?;
    if !access.may_log_in() {
        return Ok(Next::Refuse(Refusal::app_not_active()));
    }
    let grant = g.grant(user, d.app.id).await?;
    let mut ask = asked(&d.app, &access, &d.scopes, grant.as_deref(), d.auth_type);
    ask.pages = page_step(g, d, &access, grant.as_deref(), &ask, user).await?;
    // A first login shows the page even when only public_profile is asked for.
    if ask.toggles.is_empty() && ask.pages.is_empty() && grant.is_some() {
        Ok(Next::Return)
    } else {
        Ok(Next::Ask(ask))
    }
}

/// The permissions to show toggles for: those offered and not yet granted, leaving out the ones
/// declined before unless the dialog re-requests them.
pub fn asked(
    app: &App,
    access: &Access,
    scopes: &[String],
    grant: Option<&Grant>,
    auth_type: AuthType,
) -> Ask {
    let mut ask = Ask {
        toggles: Vec::new(),
        rerequest: false,
        pages: Vec::new(),
    };
    for s in scopes {
        if s == PUBLIC_PROFILE || !access.offers(app, s) || grant.is_some_and(|g| g.has(s)) {
            continue;
        }
        let declined = grant.is_some_and(|g| g.declined.iter().any(|d| d == s));
        if declined && auth_type != AuthType::Rerequest {
            continue;
        }
        ask.rerequest |= declined;
        ask.toggles.push(s.clone());
    }
    ask
}

/// The Page step (Facebook asks which Pages an app may use when it asks for Page permissions):
/// shown when the dialog asks for a Page permission the app offers and the person has Pages,
/// and either one is asked for the first time (a toggle) or the dialog re-requests.
async fn page_step(
    g: &Services,
    d: &Dialog,
    access: &Access,
    grant: Option<&Grant>,
    ask: &Ask,
    user: UserId,
) -> Result<Vec<PageChoice>, GraphError> {
    let page_scoped = |s: &String| permissions::is_page_scoped(s) && access.offers(&d.app, s);
    let asks_pages = d.scopes.iter().any(page_scoped);
    let new_page_permission = ask.toggles.iter().any(page_scoped);
    if !asks_pages || !(new_page_permission || d.auth_type == AuthType::Rerequest) {
        return Ok(Vec::new());
    }
    Ok(g.pages_of_user(user)
        .await?
        .into_iter()
        .map(|(page, _)| PageChoice {
            id: page.id,
            name: page.name.clone(),
            chosen: policy::page_chosen(grant, page.id),
        })
        .collect())
}

/// Records the person's answer in their grant: toggles left on are granted, toggles turned off
/// and permissions the app may not ask this person for (by `access`) are declined; when the
/// Page step was shown, the Pages ticked (of the person's) become the ones the app may use.
/// Renews data access.
async fn consent(
    g: &Services,
    app: &App,
    access: Access,
    user: UserId,
    scopes: &[String],
    answer: &Answer,
) -> Result<Grant, GraphError> {
    let now = g.now();
    let (app_id, app2) = (app.id, app.clone());
    let scopes = scopes.to_vec();
    let chosen = answer.scopes.clone();
    let pages = match &answer.pages {
        None => None,
        Some(ticked) => {
            let mine = g.pages_of_user(user).await?;
            Some(
                mine.iter()
                    .map(|(p, _)| p.id)
                    .filter(|id| ticked.contains(id))
                    .collect::<Vec<_>>(),
            )
        }
    };
    let grant = g
        .store
        .update_grant(
            user,
            app.id,
            Box::new(move |old: Option<Grant>| {
                let mut grant = Grant::at_login(old, user, app_id, now);
                if let Some(pages) = &pages {
                    grant.pages = Some(pages.clone());
                }
                for s in scopes.iter().filter(|s| *s != PUBLIC_PROFILE) {
                    if grant.has(s) {
                        continue;
                    }
                    if access.offers(&app2, s) && chosen.contains(s) {
                        grant.declined.retain(|d| d != s);
                        grant.granted.push(s.clone());
                    } else if !grant.declined.contains(s) {
                        grant.declined.push(s.clone());
                    }
                }
                Some(grant)
            }),
        )
        .await?
        .ok_or_else(|| GraphError::internal_because("update_grant returned no grant"))?;
    g.publish(Event::GrantChanged { user, app: app.id });
    Ok(grant)
}

/// Where the browser goes after the person continued: a code, a token, or both, and the
/// granted and declined scopes when asked for.
pub async fn complete(
    g: &Services,
    d: &Dialog,
    user: &User,
    grant: &Grant,
) -> Result<String, GraphError> {
    let now = g.now();
    let mut out: Vec<(&str, String)> = Vec::new();
    if d.response.code {
        let (code, mut record) = AuthCode::issue(
            CodeKind::Dialog,
            d.app.id,
            user.id,
            &d.redirect_uri,
            now,
            g.stamps(),
        )?;
        record.pkce = d.pkce.clone();
        g.add_code(&record).await?;
        out.push(("code", code));
    }
    if d.response.token {
        let issued = g.open_session(user.id, d.app.id, false).await?;
        out.push(("access_token", issued.access_token));
        out.push((
            "data_access_expiration_time",
            grant.data_access_expires_at().to_string(),
        ));
        out.push(("expires_in", issued.expires_in.to_string()));
    }
    if d.response.granted_scopes {
        out.push(("granted_scopes", grant.granted.join(",")));
        out.push(("denied_scopes", grant.declined.join(",")));
    }
    if let Some(state) = &d.state {
        out.push(("state", state.clone()));
    }
    Ok(redirect(&d.redirect_uri, &out, d.response.in_fragment()))
}

/// Where the browser goes when the person cancels (spec §2.1).
pub fn cancel(d: &Dialog) -> String {
    let mut out = vec![
        ("error", "access_denied".to_string()),
        ("error_code", "200".to_string()),
        ("error_description", "Permissions error.".to_string()),
        ("error_reason", "user_denied".to_string()),
    ];
    if let Some(state) = &d.state {
        out.push(("state", state.clone()));
    }
    redirect(&d.redirect_uri, &out, false)
}

/// `uri` with `params` added to its query (after any it has), or as its fragment. Query answers
/// end in `#_=_` as Facebook's do.
fn redirect(uri: &str, params: &[(&str, String)], fragment: bool) -> String {
    let base = uri.split('#').next().unwrap_or(uri);
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        q.append_pair(k, v);
    }
    let q = q.finish();
    if fragment {
        format!("{base}#{q}")
    } else {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}{q}#_=_")
    }
}

/// Characters left as they are when a dialog's query is carried in a hidden field and back.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A dialog's parameters as one query string (for the forms of its pages to carry).
pub fn query_of(p: &Params) -> String {
    p.0.iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, QUERY),
                utf8_percent_encode(v, QUERY)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The person's answer on the consent page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// The permissions left ticked.
    pub scopes: Vec<String>,
    /// The Pages left ticked, when the page had a Page step.
    pub pages: Option<Vec<PageId>>,
}

impl Services {
    /// The person continued: their answer goes into the grant, and the browser goes back to the
    /// app with a code, a token or both. Returns where.
    pub async fn approve(
        &self,
        d: &Dialog,
        user: &User,
        answer: &Answer,
    ) -> Result<String, GraphError> {
        let access = access(self, &d.app, user.id).await?;
        let grant = consent(self, &d.app, access, user.id, &d.scopes, answer).await?;
        complete(self, d, user, &grant).await
    }

    /// The dialog a device login amounts to: its app and scopes, nowhere to redirect. A
    /// refusal when the app is gone.
    pub async fn device_dialog(
        &self,
        device: &DeviceCode,
    ) -> Result<Result<Dialog, Refusal>, GraphError> {
        let Some(app) = self.app(device.app_id).await? else {
            return Ok(Err(Refusal::app_not_active()));
        };
        Ok(Ok(Dialog {
            app: (*app).clone(),
            redirect_uri: String::new(),
            state: None,
            scopes: device.scopes.clone(),
            response: ResponseType {
                code: false,
                token: false,
                granted_scopes: false,
            },
            auth_type: AuthType::Normal,
            pkce: None,
        }))
    }

    /// The person answers a device login (`d` is its [`Services::device_dialog`]). Approving
    /// needs the app to admit them (the refusal otherwise) and records their answer in the
    /// grant; the device's next poll then gets the token. Declining needs nothing.
    pub async fn answer_device(
        &self,
        device: &DeviceCode,
        d: &Dialog,
        user: &User,
        approved: bool,
        answer: &Answer,
    ) -> Result<Option<Refusal>, GraphError> {
        if approved {
            let access = access(self, &d.app, user.id).await?;
            if !access.may_log_in() {
                return Ok(Some(Refusal::app_not_active()));
            }
            consent(self, &d.app, access, user.id, &d.scopes, answer).await?;
        }
        self.answer_device_code(device.hash, user.id, approved)
            .await?;
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types() {
        let r = ResponseType::parse(None).unwrap();
        assert!(r.code && !r.token && !r.granted_scopes);
        let r = ResponseType::parse(Some("code token")).unwrap();
        assert!(r.code && r.token && r.in_fragment());
        let r = ResponseType::parse(Some("token,granted_scopes")).unwrap();
        assert!(!r.code && r.token && r.granted_scopes);
        let r = ResponseType::parse(Some("granted_scopes")).unwrap();
        assert!(r.code && r.granted_scopes && !r.in_fragment());
        assert_eq!(ResponseType::parse(Some("id_token")), None);
    }

    #[test]
    fn redirects_keep_the_apps_query() {
        let q = vec![("code", "AQx".to_string()), ("state", "a b&c".to_string())];
        assert_eq!(
            redirect("https://app.test/cb?x=1", &q, false),
            "https://app.test/cb?x=1&code=AQx&state=a+b%26c#_=_"
        );
        assert_eq!(
            redirect("https://app.test/cb#old", &q, true),
            "https://app.test/cb#code=AQx&state=a+b%26c"
        );
    }

    #[test]
    fn queries_round_trip() {
        let p = Params(vec![
            ("client_id".into(), "1".into()),
            ("scope".into(), "email,pages_show_list".into()),
            ("state".into(), "ä &=#".into()),
        ]);
        let back: Vec<(String, String)> = form_urlencoded::parse(query_of(&p).as_bytes())
            .into_owned()
            .collect();
        assert_eq!(back, p.0);
    }
}
