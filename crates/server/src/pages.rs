//! The browser-facing pages of the login dialog and the device flow, rendered with maud: every
//! value put into a page is escaped unless it is written `PreEscaped` (only the stylesheet and
//! the two icons, which are ours).
//!
//! Pure functions: no I/O, no JavaScript, no external assets. Every page is a full HTML5 document
//! with the shared inline stylesheet (`pages.css`).

use graphtoken_core::model::Platform;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// The shared stylesheet, inlined into every page.
const CSS: &str = include_str!("pages.css");

/// The sign-in form (`POST /login`).
#[derive(Debug, Clone, Copy)]
pub struct SignIn<'a> {
    /// "Log in to {app}", or "Log in to graphtoken" when `None`.
    pub app_name: Option<&'a str>,
    /// Prefills the email field.
    pub email: &'a str,
    pub error: Option<&'a str>,
    pub next: &'a str,
    pub csrf: &'a str,
    /// The app asked for the password again (`auth_type=reauthenticate`): the email is read-only.
    pub reauthenticate: bool,
}

pub fn sign_in(v: &SignIn) -> String {
    let app = v.app_name.unwrap_or("graphtoken");
    let email_focus = v.email.is_empty() && !v.reauthenticate;
    let card = html! {
        @if v.reauthenticate {
            h1 { "Re-enter your password" }
            p class="note" { (app) " asked you to enter your password again to confirm it's you." }
        } @else {
            h1 { "Log in to " (app) }
        }
        (error(v.error))
        form method="post" action="/login" {
            (hidden("next", v.next))
            (hidden("csrf", v.csrf))
            div class="field" {
                label for="email" { "Email" }
                input id="email" name="email" type="email" autocomplete="username" required
                    value=(v.email) spellcheck="false" autocapitalize="none"
                    readonly[v.reauthenticate] autofocus[email_focus];
            }
            div class="field" {
                label for="pass" { "Password" }
                input id="pass" name="pass" type="password" autocomplete="current-password"
                    required autofocus[!email_focus];
            }
            div class="actions" {
                button type="submit" id="login" name="login" class="primary" { "Log in" }
            }
        }
    };
    let title = if v.reauthenticate {
        "Re-enter your password".to_owned()
    } else {
        format!("Log in to {app}")
    };
    document(&title, card)
}

/// One permission row of the consent form.
#[derive(Debug, Clone, Copy)]
pub struct Permission<'a> {
    pub name: &'a str,
    /// Plain words (`graphtoken_core::permissions::describe`).
    pub description: &'a str,
    pub checked: bool,
    /// Always on, cannot be unticked (`public_profile`).
    pub locked: bool,
}

/// The consent form: which permissions the signed-in user grants the app.
#[derive(Debug, Clone, Copy)]
pub struct Consent<'a> {
    /// The form's action path, e.g. `/dialog/oauth/confirm` or `/device/confirm`.
    pub action: &'a str,
    /// Extra hidden inputs, e.g. `("dialog", query)` or `("user_code", code)`.
    pub hidden: &'a [(&'a str, &'a str)],
    pub csrf: &'a str,
    pub app_name: &'a str,
    /// Full name; the button says "Continue as {first word}".
    pub user_name: &'a str,
    pub permissions: &'a [Permission<'a>],
    /// The app asks again for permissions the user declined (`auth_type=rerequest`).
    pub rerequest: bool,
    /// Where `/logout` sends the "Not you?" user afterwards.
    pub logout_next: &'a str,
    /// The Page step: the person's Pages, to tick those the app may use (empty: none).
    pub pages: &'a [PageOption<'a>],
}

/// A Page on the consent form's Page step.
#[derive(Debug, Clone)]
pub struct PageOption<'a> {
    pub id: String,
    pub name: &'a str,
    pub chosen: bool,
}

pub fn consent(v: &Consent) -> String {
    let app = v.app_name;
    let first = v.user_name.split_whitespace().next().unwrap_or("");
    let card = html! {
        div class="app" {
            span class="app-icon" aria-hidden="true" { (initial(app)) }
            @if v.rerequest {
                h1 { (app) " is asking again for permissions you declined" }
            } @else {
                h1 { (app) " would like to access" }
            }
        }
        @if v.rerequest {
            p class="lede" { "Choose what " (app) " can access. Permissions you leave off stay declined." }
        } @else {
            p class="lede" { "Choose what " (app) " can access. You can turn off anything except your public profile." }
        }
        form method="post" action=(v.action) {
            @for (name, value) in v.hidden {
                (hidden(name, value))
            }
            (hidden("csrf", v.csrf))
            ul class="perms" aria-label="Permissions" {
                @for p in v.permissions {
                    li class=(if p.locked { "perm locked" } else { "perm" }) {
                        input type="checkbox" name="scope" value=(p.name)
                            id={ "perm-" (p.name) } checked[p.checked || p.locked]
                            disabled[p.locked];
                        @if p.locked {
                            // A disabled box is not submitted: the locked permission still is.
                            input type="hidden" name="scope" value=(p.name);
                        }
                        label for={ "perm-" (p.name) } {
                            span class="perm-desc" { (p.description) }
                            small class="perm-name" {
                                (p.name)
                                @if p.locked { " · required" }
                            }
                        }
                    }
                }
            }
            @if !v.pages.is_empty() {
                h2 class="pages-title" { "Choose the Pages " (app) " can use" }
                p class="lede" { "Its Page permissions apply only to the Pages you leave ticked." }
                (hidden("pages_offered", "1"))
                ul class="perms" aria-label="Pages" {
                    @for p in v.pages {
                        li class="perm" {
                            input type="checkbox" name="page" value=(p.id)
                                id={ "page-" (p.id) } checked[p.chosen];
                            label for={ "page-" (p.id) } {
                                span class="perm-desc" { (p.name) }
                                small class="perm-name" { "Page " (p.id) }
                            }
                        }
                    }
                }
            }
            div class="actions" {
                button type="submit" id="continue" name="action" value="continue" class="primary" {
                    @if first.is_empty() { "Continue" } @else { "Continue as " (first) }
                }
                button type="submit" id="cancel" name="action" value="cancel" class="secondary" {
                    "Cancel"
                }
            }
        }
        form method="post" action="/logout" class="notyou" {
            (hidden("next", v.logout_next))
            (hidden("csrf", v.csrf))
            "Logged in as " (v.user_name) ". "
            button type="submit" id="logout" class="link" { "Not you?" }
        }
    };
    document(&format!("{app} would like to access your account"), card)
}

/// A page that explains why the flow stops here.
#[derive(Debug, Clone, Copy)]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
    /// Smaller print, e.g. "This message is only shown to developers...".
    pub detail: Option<&'a str>,
}

pub fn error_page(v: &ErrorPage) -> String {
    let card = html! {
        h1 { (v.title) }
        p { (v.message) }
        @if let Some(d) = v.detail {
            p class="detail" { (d) }
        }
    };
    document(v.title, card)
}

/// The device flow's code entry (`POST /device`).
#[derive(Debug, Clone, Copy)]
pub struct DeviceEntry<'a> {
    pub csrf: &'a str,
    /// Prefills the code field.
    pub user_code: &'a str,
    pub error: Option<&'a str>,
    pub user_name: &'a str,
}

pub fn device_entry(v: &DeviceEntry) -> String {
    let card = html! {
        h1 { "Connect a device" }
        p class="lede" { "Enter the code shown on your TV or device." }
        (error(v.error))
        form method="post" action="/device" {
            (hidden("csrf", v.csrf))
            div class="field" {
                label for="user_code" { "Code" }
                input id="user_code" name="user_code" autocomplete="off"
                    autocapitalize="characters" type="text" class="code" spellcheck="false"
                    required value=(v.user_code) autofocus;
            }
            div class="actions" {
                button type="submit" id="continue" class="primary" { "Continue" }
            }
        }
        p class="hint" { "Logged in as " (v.user_name) "." }
    };
    document("Connect a device", card)
}

/// The device flow's last page.
#[derive(Debug, Clone, Copy)]
pub struct DeviceDone<'a> {
    pub app_name: &'a str,
    pub approved: bool,
}

pub fn device_done(v: &DeviceDone) -> String {
    let app = v.app_name;
    let (title, card) = if v.approved {
        let card = html! {
            div class="badge ok" aria-hidden="true" { (PreEscaped(CHECK)) }
            h1 class="center" { "Success!" }
            p class="center" {
                "You're now logged in to " (app) " on your device. You can close this window."
            }
        };
        ("Success!", card)
    } else {
        let card = html! {
            div class="badge" aria-hidden="true" { (PreEscaped(CROSS)) }
            h1 class="center" { "Login cancelled" }
            p class="center" {
                "You didn't log in to " (app) " on your device. You can close this window."
            }
        };
        ("Login cancelled", card)
    };
    document(title, card)
}

const CHECK: &str =
    "<svg viewBox=\"0 0 24 24\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2.5\" \
    stroke-linecap=\"round\" stroke-linejoin=\"round\"><path d=\"M5 12.5l4.5 4.5L19 7.5\"/></svg>";
const CROSS: &str =
    "<svg viewBox=\"0 0 24 24\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"2.5\" \
    stroke-linecap=\"round\"><path d=\"M7 7l10 10M17 7L7 17\"/></svg>";

// ---- the console ---------------------------------------------------------------------------

/// The console's home: the world at a glance.
#[derive(Debug, Clone, Copy)]
pub struct Home<'a> {
    pub overview: &'a graphtoken_core::model::Overview,
    /// The virtual clock's now, in words.
    pub now: &'a str,
    /// How far the virtual clock is from real time.
    pub offset_days: f64,
}

pub fn home(v: &Home) -> String {
    let o = v.overview;
    let content = html! {
        h1 { "graphtoken" }
        p class="lede" {
            "The Facebook Graph API access-token system, on your machine: "
            (o.app_count) " apps, " (o.user_count) " people, " (o.page_count) " Pages."
        }
        section aria-labelledby="tools" {
            h2 id="tools" { "Tools" }
            ul class="tools" {
                li { a href="/tools/explorer/" { "Graph API Explorer" } " — generate a token through the login dialog, take a Page token, and call the Graph API" }
                li { a href="/tools/debug/accesstoken/" { "Access Token Debugger" } " — paste a token: its app, type, expiry, scopes and why it no longer works" }
                li { a href="/tools/emulator/" { "Emulator controls" } " — move the clock, arm faults, watch the events (the admin key is asked once)" }
                li { a href="/apps/" { "App Dashboard" } " — your apps' settings, secret, roles, App Review, test users, callbacks and rate limits (sign in as a person with a role)" }
                li { a href="/settings/apps/" { "Your settings" } " — the apps you gave access, Remove, and sign out everywhere" }
                li { a href="/docs/" { "Docs" } " — the README and every guide: seed files, compatibility, the keeper, production" }
            }
            p class="note" {
                "The virtual clock reads " strong { (v.now) }
                @if v.offset_days.abs() >= 0.01 {
                    " (" (format!("{:+.2}", v.offset_days)) " days from real time)"
                }
                ". The Graph API answers on this same address."
            }
        }
        (listing("apps", "Apps", html! { "No apps yet: start with a seed file (" code { "--seed" } ")." },
            &["Name", "App ID", "Mode", "Platform", "Roles"],
            o.apps.iter().map(|a| vec![
                html! { (a.name) },
                html! { code { (a.id) } },
                html! { (format!("{:?}", a.mode).to_lowercase()) },
                html! { (match a.platform { Platform::Web => "web", Platform::Native => "native or desktop" }) },
                html! { (a.roles.len()) },
            ]).collect(),
            o.app_count))
        (listing("people", "People", html! { "No people yet." },
            &["Name", "ID", "Email"],
            o.users.iter().map(|u| vec![
                html! { (u.name) },
                html! { code { (u.id) } },
                html! { (u.email.as_deref().unwrap_or("—")) },
            ]).collect(),
            o.user_count))
        (listing("pages", "Pages", html! { "No Pages yet." },
            &["Name", "Page ID", "Category"],
            o.pages.iter().map(|p| vec![
                html! { (p.name) },
                html! { code { (p.id) } },
                html! { (p.category) },
            ]).collect(),
            o.page_count))
    };
    console_document("Console", content)
}

/// A section of the home page: a table of the first items (`rows`) of `total`.
fn listing(
    id: &str,
    title: &str,
    empty: Markup,
    header: &[&str],
    rows: Vec<Vec<Markup>>,
    total: u64,
) -> Markup {
    let more = total.saturating_sub(rows.len() as u64);
    html! {
        section aria-labelledby=(id) {
            h2 id=(id) { (title) }
            @if rows.is_empty() {
                p class="note" { (empty) }
            } @else {
                table {
                    thead { tr { @for h in header { th scope="col" { (h) } } } }
                    tbody {
                        @for row in &rows {
                            tr { @for cell in row { td { (cell) } } }
                        }
                    }
                }
                @if more > 0 { p class="note" { "and " (more) " more" } }
            }
        }
    }
}

/// One row of the debugger's answer.
#[derive(Debug, Clone)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
}

impl Field {
    pub fn new(label: &'static str, value: String) -> Self {
        Field { label, value }
    }
}

/// What the Access Token Debugger found.
#[derive(Debug, Clone)]
pub struct Debugged {
    pub fields: Vec<Field>,
    pub valid: bool,
    /// A working short-lived user token: "Extend Access Token" is offered.
    pub extendable: bool,
    /// The token shown was just made by "Extend Access Token".
    pub extended_from: bool,
}

/// The Access Token Debugger: the form, and what it found for `token`.
pub fn debugger(csrf: &str, token: &str, found: Option<&Debugged>, error: Option<&str>) -> String {
    let content = html! {
        h1 { "Access Token Debugger" }
        p class="lede" { "Paste a user, Page, app or client token to see what graphtoken knows of it." }
        (self::error(error))
        form method="post" action="/tools/debug/accesstoken/" {
            (hidden("csrf", csrf))
            (token_area(token))
            div class="actions inline" {
                button type="submit" id="debug" class="primary" { "Debug" }
            }
        }
        @if let Some(d) = found {
            section aria-labelledby="found" {
                h2 id="found" {
                    @if d.extended_from { "The new long-lived token" } @else { "Access Token Info" }
                }
                dl class=(if d.valid { "info valid" } else { "info invalid" }) {
                    @for f in &d.fields {
                        div { dt { (f.label) } dd { (f.value) } }
                    }
                }
                @if d.extendable {
                    form method="post" action="/tools/debug/accesstoken/extend" {
                        (hidden("csrf", csrf))
                        (hidden("token", token))
                        div class="actions inline" {
                            button type="submit" id="extend" class="secondary" { "Extend Access Token" }
                        }
                    }
                }
            }
        }
        p class="note" { a href="/" { "← Console" } }
    };
    console_document("Access Token Debugger", content)
}

/// A console page: the login pages' look, wider.
pub(crate) fn console_document(title: &str, content: Markup) -> String {
    page(title, "console", content)
}

/// A console page with room for two columns (the Explorer).
pub(crate) fn wide_console_document(title: &str, content: Markup) -> String {
    page(title, "console wide", content)
}

fn document(title: &str, card: Markup) -> String {
    page(title, "card", card)
}

/// The whole document around a page's content (`class`: `card` or `console`).
fn page(title: &str, class: &str, card: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex, nofollow";
                title { (title) " · graphtoken" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header class="top" {
                    span class="wordmark" {
                        span class="wordmark-mark" aria-hidden="true" { "g" }
                        "graphtoken"
                    }
                }
                main class=(class) { (card) }
                footer class="foot" { "graphtoken · Graph API emulator" }
            }
        }
    }
    .into_string()
}

/// The console's access-token box.
pub(crate) fn token_area(token: &str) -> Markup {
    html! {
        div class="field" {
            label for="token" { "Access token" }
            textarea id="token" name="token" rows="3" spellcheck="false" autocomplete="off" { (token) }
        }
    }
}

pub(crate) fn hidden(name: &str, value: &str) -> Markup {
    html! { input type="hidden" name=(name) value=(value); }
}

/// An error paragraph (nothing for `None`).
pub(crate) fn error(error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error {
            p class="error" role="alert" { (e) }
        }
    }
}

/// The app's first letter, upper-cased, for its placeholder icon.
fn initial(name: &str) -> String {
    name.chars()
        .find(|c| c.is_alphanumeric())
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert('x')</script>\"&";
    /// maud escapes `&`, `<`, `>` and `"`: enough in text and in double-quoted attributes.
    const HOSTILE_ESCAPED: &str = "&lt;script&gt;alert('x')&lt;/script&gt;&quot;&amp;";

    fn assert_document(html: &str, title: &str) {
        assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"));
        assert!(html
            .contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
        assert!(html.contains("<meta name=\"referrer\" content=\"no-referrer\">"));
        assert!(html.contains(&format!("<title>{title} · graphtoken</title>")));
        assert!(html.contains("<style>") && html.contains(".perm input[type=\"checkbox\"]"));
        assert!(!html.contains("<script"), "no scripts");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "no external assets"
        );
        assert!(html.ends_with("</html>"));
    }

    #[test]
    fn pages_escape_every_special_character() {
        let html = error_page(&ErrorPage {
            title: "t",
            message: HOSTILE,
            detail: Some("plain text é"),
        });
        assert!(html.contains(&format!("<p>{HOSTILE_ESCAPED}</p>")));
        assert!(html.contains("plain text é"));
    }

    #[test]
    fn pages_sign_in_has_the_contract_elements() {
        let html = sign_in(&SignIn {
            app_name: Some("Acme"),
            email: "a@example.com",
            error: Some("Wrong password"),
            next: "/dialog/oauth?client_id=1&x=2",
            csrf: "tok",
            reauthenticate: false,
        });
        assert_document(&html, "Log in to Acme");
        assert!(html.contains("<h1>Log in to Acme</h1>"));
        assert!(html.contains("<form method=\"post\" action=\"/login\">"));
        assert!(html.contains(
            "<input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"a@example.com\""
        ));
        assert!(html.contains(
            "<input id=\"pass\" name=\"pass\" type=\"password\" autocomplete=\"current-password\" required"
        ));
        assert!(html.contains("<label for=\"email\">") && html.contains("<label for=\"pass\">"));
        assert!(html.contains(
            "<input type=\"hidden\" name=\"next\" value=\"/dialog/oauth?client_id=1&amp;x=2\">"
        ));
        assert!(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"tok\">"));
        assert!(html.contains(
            "<button type=\"submit\" id=\"login\" name=\"login\" class=\"primary\">Log in</button>"
        ));
        assert!(html.contains("<p class=\"error\" role=\"alert\">Wrong password</p>"));
        assert!(!html.contains("autocapitalize=\"none\" readonly"));
    }

    #[test]
    fn pages_sign_in_defaults_and_reauthenticate() {
        let html = sign_in(&SignIn {
            app_name: None,
            email: "",
            error: None,
            next: "/",
            csrf: "t",
            reauthenticate: false,
        });
        assert!(html.contains("<h1>Log in to graphtoken</h1>"));
        assert!(!html.contains("class=\"error\""));

        let html = sign_in(&SignIn {
            app_name: Some("Acme"),
            email: "a@example.com",
            error: None,
            next: "/",
            csrf: "t",
            reauthenticate: true,
        });
        assert_document(&html, "Re-enter your password");
        assert!(html.contains("<h1>Re-enter your password</h1>"));
        assert!(html.contains("Acme asked you to enter your password again"));
        assert!(html.contains(
            "value=\"a@example.com\" spellcheck=\"false\" autocapitalize=\"none\" readonly"
        ));
        assert!(
            html.contains("name=\"email\""),
            "the read-only email is still submitted"
        );
    }

    #[test]
    fn pages_sign_in_escapes_hostile_values() {
        let html = sign_in(&SignIn {
            app_name: Some(HOSTILE),
            email: HOSTILE,
            error: Some(HOSTILE),
            next: HOSTILE,
            csrf: HOSTILE,
            reauthenticate: false,
        });
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<script>alert"));
        assert!(html.contains(&format!("<h1>Log in to {HOSTILE_ESCAPED}</h1>")));
        assert!(html.contains(&format!("value=\"{HOSTILE_ESCAPED}\" spellcheck")));
        assert!(html.contains(&format!("name=\"next\" value=\"{HOSTILE_ESCAPED}\"")));
        assert!(html.contains(&format!("name=\"csrf\" value=\"{HOSTILE_ESCAPED}\"")));
        assert!(html.contains(&format!("role=\"alert\">{HOSTILE_ESCAPED}</p>")));
        assert!(html.contains(&format!(
            "<title>Log in to {HOSTILE_ESCAPED} · graphtoken</title>"
        )));
    }

    fn sample_permissions() -> [Permission<'static>; 3] {
        [
            Permission {
                name: "public_profile",
                description: "Your name and profile picture",
                checked: true,
                locked: true,
            },
            Permission {
                name: "email",
                description: "Your email address",
                checked: true,
                locked: false,
            },
            Permission {
                name: "pages_show_list",
                description: "Show a list of the Pages you manage",
                checked: false,
                locked: false,
            },
        ]
    }

    #[test]
    fn pages_consent_has_the_contract_elements() {
        let perms = sample_permissions();
        let html = consent(&Consent {
            action: "/dialog/oauth/confirm",
            hidden: &[("dialog", "client_id=1&redirect_uri=x")],
            csrf: "tok",
            app_name: "Acme",
            user_name: "Jane Q Doe",
            permissions: &perms,
            rerequest: false,
            logout_next: "/dialog/oauth?client_id=1",
            pages: &[],
        });
        assert_document(&html, "Acme would like to access your account");
        assert!(html.contains("<form method=\"post\" action=\"/dialog/oauth/confirm\">"));
        assert!(html.contains(
            "<input type=\"hidden\" name=\"dialog\" value=\"client_id=1&amp;redirect_uri=x\">"
        ));
        assert!(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"tok\">"));
        assert!(html.contains(
            "<input type=\"checkbox\" name=\"scope\" value=\"public_profile\" id=\"perm-public_profile\" checked disabled>\
             <input type=\"hidden\" name=\"scope\" value=\"public_profile\">"
        ));
        assert!(html.contains(
            "<input type=\"checkbox\" name=\"scope\" value=\"email\" id=\"perm-email\" checked>"
        ));
        assert!(html.contains(
            "<input type=\"checkbox\" name=\"scope\" value=\"pages_show_list\" id=\"perm-pages_show_list\">"
        ));
        assert!(!html.contains("<input type=\"hidden\" name=\"scope\" value=\"email\">"));
        assert!(html.contains(
            "<label for=\"perm-email\"><span class=\"perm-desc\">Your email address</span>\
             <small class=\"perm-name\">email</small></label>"
        ));
        assert!(html.contains("<label for=\"perm-pages_show_list\">"));
        assert!(html.contains(
            "<button type=\"submit\" id=\"continue\" name=\"action\" value=\"continue\" class=\"primary\">Continue as Jane</button>"
        ));
        assert!(html.contains(
            "<button type=\"submit\" id=\"cancel\" name=\"action\" value=\"cancel\" class=\"secondary\">Cancel</button>"
        ));
        let logout = html
            .split("<form method=\"post\" action=\"/logout\" class=\"notyou\">")
            .nth(1)
            .unwrap();
        assert!(logout
            .contains("<input type=\"hidden\" name=\"next\" value=\"/dialog/oauth?client_id=1\">"));
        assert!(logout.contains("<input type=\"hidden\" name=\"csrf\" value=\"tok\">"));
        assert!(logout
            .contains("<button type=\"submit\" id=\"logout\" class=\"link\">Not you?</button>"));
        assert!(html.contains("Acme would like to access"));
        assert!(!html.contains("asking again"));
    }

    #[test]
    fn pages_consent_rerequest_wording() {
        let perms = sample_permissions();
        let html = consent(&Consent {
            action: "/device/confirm",
            hidden: &[("user_code", "ABCD1234")],
            csrf: "t",
            app_name: "Acme",
            user_name: "Jane",
            permissions: &perms,
            rerequest: true,
            logout_next: "/device",
            pages: &[],
        });
        assert!(html.contains("<h1>Acme is asking again for permissions you declined</h1>"));
        assert!(html.contains("<form method=\"post\" action=\"/device/confirm\">"));
        assert!(html.contains("<input type=\"hidden\" name=\"user_code\" value=\"ABCD1234\">"));
        assert!(html.contains(">Continue as Jane</button>"));
    }

    #[test]
    fn pages_consent_escapes_hostile_values() {
        let perms = [Permission {
            name: HOSTILE,
            description: HOSTILE,
            checked: true,
            locked: true,
        }];
        let html = consent(&Consent {
            action: HOSTILE,
            hidden: &[(HOSTILE, HOSTILE)],
            csrf: HOSTILE,
            app_name: HOSTILE,
            user_name: HOSTILE,
            permissions: &perms,
            rerequest: false,
            logout_next: HOSTILE,
            pages: &[],
        });
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<script>alert"));
        assert!(html.contains(&format!("action=\"{HOSTILE_ESCAPED}\"")));
        assert!(html.contains(&format!(
            "<input type=\"hidden\" name=\"{HOSTILE_ESCAPED}\" value=\"{HOSTILE_ESCAPED}\">"
        )));
        assert!(html.contains(&format!("id=\"perm-{HOSTILE_ESCAPED}\"")));
        assert!(html.contains(&format!("<h1>{HOSTILE_ESCAPED} would like to access</h1>")));
        assert!(html.contains("<span class=\"app-icon\" aria-hidden=\"true\">S</span>"));
    }

    #[test]
    fn pages_error_page_has_the_contract_elements() {
        let html = error_page(&ErrorPage {
            title: "App not set up",
            message: "This app is still in development mode.",
            detail: Some("This message is only shown to developers."),
        });
        assert_document(&html, "App not set up");
        assert!(html.contains(
            "<main class=\"card\"><h1>App not set up</h1><p>This app is still in development mode.</p>"
        ));
        assert!(html.contains("<p class=\"detail\">This message is only shown to developers.</p>"));

        let html = error_page(&ErrorPage {
            title: HOSTILE,
            message: HOSTILE,
            detail: Some(HOSTILE),
        });
        assert!(!html.contains("<script>"));
        assert!(html.contains(&format!(
            "<h1>{HOSTILE_ESCAPED}</h1><p>{HOSTILE_ESCAPED}</p>"
        )));
        let html = error_page(&ErrorPage {
            title: "t",
            message: "m",
            detail: None,
        });
        assert!(!html.contains("class=\"detail\""));
    }

    #[test]
    fn pages_device_entry_has_the_contract_elements() {
        let html = device_entry(&DeviceEntry {
            csrf: "tok",
            user_code: "ABCD1234",
            error: Some("That code didn't work"),
            user_name: "Jane Doe",
        });
        assert_document(&html, "Connect a device");
        assert!(html.contains("<form method=\"post\" action=\"/device\">"));
        assert!(html.contains(
            "<input id=\"user_code\" name=\"user_code\" autocomplete=\"off\" autocapitalize=\"characters\" "
        ));
        assert!(html.contains("value=\"ABCD1234\""));
        assert!(html.contains("<label for=\"user_code\">"));
        assert!(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"tok\">"));
        assert!(html.contains(
            "<button type=\"submit\" id=\"continue\" class=\"primary\">Continue</button>"
        ));
        assert!(html.contains("<p class=\"error\" role=\"alert\">That code didn't work</p>"));

        let html = device_entry(&DeviceEntry {
            csrf: HOSTILE,
            user_code: HOSTILE,
            error: Some(HOSTILE),
            user_name: HOSTILE,
        });
        assert!(!html.contains("<script>"));
        assert!(html.contains(&format!("value=\"{HOSTILE_ESCAPED}\" autofocus")));
        assert!(html.contains(&format!("name=\"csrf\" value=\"{HOSTILE_ESCAPED}\"")));
    }

    #[test]
    fn pages_device_done_wording() {
        let html = device_done(&DeviceDone {
            app_name: "Acme TV",
            approved: true,
        });
        assert_document(&html, "Success!");
        assert!(html.contains("<h1 class=\"center\">Success!</h1>"));
        assert!(html.contains(
            "You're now logged in to Acme TV on your device. You can close this window."
        ));
        let html = device_done(&DeviceDone {
            app_name: HOSTILE,
            approved: false,
        });
        assert!(html.contains("<h1 class=\"center\">Login cancelled</h1>"));
        assert!(!html.contains("<script>"));
        assert!(html.contains(HOSTILE_ESCAPED));
    }

    /// Writes every page to /tmp/pages-preview for a look in a browser.
    #[test]
    #[ignore]
    fn pages_write_preview() {
        let dir = std::path::Path::new("/tmp/pages-preview");
        std::fs::create_dir_all(dir).unwrap();
        let perms = sample_permissions();
        let many: Vec<Permission> = [
            "public_profile",
            "email",
            "pages_show_list",
            "pages_manage_posts",
            "pages_read_engagement",
            "instagram_basic",
        ]
        .iter()
        .enumerate()
        .map(|(i, n)| Permission {
            name: n,
            description: graphtoken_core::permissions::describe(n),
            checked: i != 3,
            locked: i == 0,
        })
        .collect();
        let files = [
            (
                "sign_in",
                sign_in(&SignIn {
                    app_name: Some("Acme Scheduler"),
                    email: "",
                    error: None,
                    next: "/",
                    csrf: "t",
                    reauthenticate: false,
                }),
            ),
            (
                "sign_in_error",
                sign_in(&SignIn {
                    app_name: Some("Acme Scheduler"),
                    email: "jane@example.com",
                    error: Some("The password you entered is incorrect."),
                    next: "/",
                    csrf: "t",
                    reauthenticate: false,
                }),
            ),
            (
                "sign_in_reauth",
                sign_in(&SignIn {
                    app_name: Some("Acme Scheduler"),
                    email: "jane@example.com",
                    error: None,
                    next: "/",
                    csrf: "t",
                    reauthenticate: true,
                }),
            ),
            (
                "consent",
                consent(&Consent {
                    action: "/dialog/oauth/confirm",
                    hidden: &[("dialog", "client_id=1")],
                    csrf: "t",
                    app_name: "Acme Scheduler",
                    user_name: "Jane Doe",
                    permissions: &many,
                    rerequest: false,
                    logout_next: "/",
                    pages: &[],
                }),
            ),
            (
                "consent_rerequest",
                consent(&Consent {
                    action: "/dialog/oauth/confirm",
                    hidden: &[],
                    csrf: "t",
                    app_name: "Acme Scheduler",
                    user_name: "Jane Doe",
                    permissions: &perms,
                    rerequest: true,
                    logout_next: "/",
                    pages: &[],
                }),
            ),
            (
                "error",
                error_page(&ErrorPage {
                    title: "URL blocked",
                    message: "This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings.",
                    detail: Some("This message is only shown to developers of the app."),
                }),
            ),
            (
                "device_entry",
                device_entry(&DeviceEntry {
                    csrf: "t",
                    user_code: "",
                    error: Some("That code is not valid or has expired."),
                    user_name: "Jane Doe",
                }),
            ),
            (
                "device_done",
                device_done(&DeviceDone {
                    app_name: "Acme TV",
                    approved: true,
                }),
            ),
            (
                "device_cancelled",
                device_done(&DeviceDone {
                    app_name: "Acme TV",
                    approved: false,
                }),
            ),
        ];
        for (name, html) in files {
            std::fs::write(dir.join(format!("{name}.html")), html).unwrap();
        }
    }
}
