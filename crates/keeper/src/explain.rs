//! Graph errors in plain words, with what to do about each.

use crate::graph::GraphError;

/// What an error means and what fixes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    /// What happened, in words.
    pub cause: String,
    /// What to do.
    pub fix: String,
    /// Waiting and trying again is the fix.
    pub transient: bool,
}

fn d(cause: &str, fix: &str) -> Diagnosis {
    Diagnosis {
        cause: cause.to_string(),
        fix: fix.to_string(),
        transient: false,
    }
}

fn wait(cause: &str, fix: &str) -> Diagnosis {
    Diagnosis {
        transient: true,
        ..d(cause, fix)
    }
}

const LOGIN_AGAIN: &str =
    "the person must log in to the app again (`graphtoken keeper login`), then the Page tokens \
     are derived anew";

/// Explains a Graph error (from an answer's `error`, or `debug_token`'s).
pub fn explain(e: &GraphError) -> Diagnosis {
    let message = e.message.to_ascii_lowercase();
    if message.contains("appsecret_proof") {
        return if message.contains("require") {
            d(
                "the app has \"Require App Secret\" on, and the call carried no appsecret_proof",
                "send appsecret_proof = hex HMAC-SHA256 of the access token, keyed with the app \
                 secret, with every call (the keeper does)",
            )
        } else {
            d(
                "the appsecret_proof does not match the token: it was made with another app's \
                 secret, an old secret, or for another token",
                "compute it again from this token and the app's current secret; after a secret \
                 reset, give the keeper the new one (`graphtoken keeper add` again)",
            )
        };
    }
    if e.code == 190 && message.contains("debug only access token") {
        return d(
            "this is a session info token (grant_type=fb_attenuate_token): it only tells, through \
             debug_token, whether a login still works, and no call may be made with it",
            "make calls with the person's or the Page's own token; keep the session info token \
             only to check the login with debug_token",
        );
    }
    match (e.code, e.subcode) {
        (190, Some(458)) => d(
            "the person removed the app (or never authorized it): every token they gave it ended",
            LOGIN_AGAIN,
        ),
        (190, Some(459)) => d(
            "Facebook put the person's account through a security checkpoint",
            "the person must log in at facebook.com and clear the checkpoint, then log in to the \
             app again (`graphtoken keeper login`)",
        ),
        (190, Some(460)) => d(
            "the person changed their password (or Facebook reset their sessions for security): \
             every token of theirs ended",
            LOGIN_AGAIN,
        ),
        (190, Some(463)) => d(
            "the token expired",
            "a person's token: they log in again (`graphtoken keeper login`); a Page token that \
             expires was derived from a short-lived token: `graphtoken keeper add` exchanges it \
             for a long-lived one first, and the Page tokens derived from that never expire",
        ),
        (190, Some(464)) => d(
            "the person's account is not confirmed: Facebook allows it no sessions",
            "the person must confirm their account (email or phone), then log in again",
        ),
        (190, Some(465)) => d(
            "the person's account is not valid any more",
            "nothing the app can do: remove the entry (`graphtoken keeper revoke`)",
        ),
        (190, Some(466)) => d(
            "the person's access was revoked through the API (DELETE /{user-id}/permissions)",
            LOGIN_AGAIN,
        ),
        (190, Some(467)) => d(
            "the person logged out of Facebook, which ended this session",
            LOGIN_AGAIN,
        ),
        (190, Some(492)) => d(
            "the person no longer has a task (role) on the Page that lets them act for it",
            "someone with full control of the Page must give the person a task on it again \
             (Page settings › Page access); then `graphtoken keeper rotate` derives a new \
             Page token (or `graphtoken keeper login`, once the person's token has expired)",
        ),
        (190, Some(493)) => d(
            "data access expired: the person has not used the app for 90 days",
            "the person must log in to the app again (`graphtoken keeper login`), which renews \
             data access for another 90 days",
        ),
        (190, _) => d(
            "the token is not one the Graph API recognises (a copy mistake, a token of another \
             server, or one that was cut short)",
            "copy the whole token again, check the Graph base URL, or log in again",
        ),
        (102, _) => d("the session behind the token is not valid", LOGIN_AGAIN),
        (2500, _) => d(
            "this call needs a person's or a Page's token, and got an app token",
            "call with the Page token (`graphtoken keeper get --page ID`) or the person's",
        ),
        (10, _) => d(
            "the app may not do this: the permission or feature lacks Advanced Access, or the \
             app is in development mode and the person has no role on it",
            "request Advanced Access in App Review, or give the person a role on the app",
        ),
        (200..=299, _) => d(
            "the person did not grant the permission this needs, or the Page token lacks the \
             task",
            "ask the person to grant it (log in again; Facebook re-asks declined permissions \
             with auth_type=rerequest), or give them the task on the Page",
        ),
        (4, _) => wait(
            "the app made too many calls (the app's rate limit)",
            "wait, then spread the calls out; X-App-Usage shows how close the app is",
        ),
        (17, _) => wait(
            "this person's token made too many calls (the user rate limit)",
            "wait, then spread the calls out",
        ),
        (32, _) => wait(
            "too many calls to this Page with a person's token",
            "wait; use the Page token, whose limit grows with the Page's audience",
        ),
        (613, _) => wait(
            "a call-rate limit of this endpoint was reached",
            "wait, then slow down",
        ),
        (80001, _) => wait(
            "too many calls to this Page (the Pages business use case limit)",
            "wait for estimated_time_to_regain_access (X-Business-Use-Case-Usage), then slow \
             down",
        ),
        (341, _) => wait(
            "the app reached a platform limit",
            "wait, and cut the number of calls",
        ),
        (368, _) => d(
            "Facebook blocked the action for a while for a policy violation",
            "wait, and review what the app posts",
        ),
        (31, Some(1_349_174)) => wait(
            "the person has not answered the device login yet",
            "keep polling at the interval given",
        ),
        (31, Some(1_349_172)) => wait(
            "the device login was polled too often",
            "poll no faster than the interval given",
        ),
        (31, Some(1_349_173)) => d(
            "the person declined the device login",
            "start again if they meant to allow it (`graphtoken keeper login`)",
        ),
        (31, Some(1_349_152)) => d(
            "the device login's code expired before the person answered",
            "start again (`graphtoken keeper login`) and enter the code within its minutes",
        ),
        (100, Some(33)) => d(
            "the object does not exist, or this token may not see it",
            "check the id, and that the token is the Page's or a person's with access to it",
        ),
        (100, _) => d(
            "a parameter of the call is wrong or missing",
            "read the message: it names the parameter",
        ),
        (1 | 2, _) => wait(
            "the Graph API failed on its side",
            "try again in a little while",
        ),
        _ => d(
            "an error the keeper has no words for",
            "read the message; Meta's error reference lists the code",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(code: i64, subcode: Option<i64>, message: &str) -> GraphError {
        GraphError {
            code,
            subcode,
            message: message.into(),
            kind: "OAuthException".into(),
            is_transient: false,
        }
    }

    #[test]
    fn every_invalidation_has_its_own_cause() {
        let causes: Vec<String> = [458, 459, 460, 463, 464, 466, 467, 492, 493]
            .iter()
            .map(|s| explain(&e(190, Some(*s), "")).cause)
            .collect();
        let mut unique = causes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), causes.len(), "{causes:?}");
        assert!(explain(&e(190, Some(460), "")).cause.contains("password"));
        assert!(explain(&e(190, Some(492), "")).cause.contains("task"));
    }

    #[test]
    fn proof_errors_are_told_apart_from_their_code() {
        let missing = explain(&e(
            100,
            None,
            "API calls from the server require an appsecret_proof argument",
        ));
        assert!(missing.cause.contains("Require App Secret"));
        let wrong = explain(&e(
            100,
            None,
            "Invalid appsecret_proof provided in the API argument",
        ));
        assert!(wrong.cause.contains("does not match"));
    }

    #[test]
    fn a_session_info_token_used_for_a_call_is_named() {
        let debug_only = explain(&e(
            190,
            None,
            "Invalid OAuth access token - Debug only access token",
        ));
        assert!(
            debug_only.cause.contains("session info token"),
            "{debug_only:?}"
        );
        let unknown = explain(&e(190, None, "The access token could not be decrypted"));
        assert!(!unknown.cause.contains("session info"), "{unknown:?}");
    }

    #[test]
    fn limits_are_transient() {
        for code in [4, 17, 32, 613, 80001] {
            assert!(explain(&e(code, None, "")).transient, "{code}");
        }
        assert!(!explain(&e(190, Some(460), "")).transient);
    }
}
