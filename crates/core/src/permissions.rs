//! The catalogue of permission names graphtoken knows (spec §4).

/// Every permission name accepted in seeds, the admin API and (later) the login dialog.
pub const KNOWN: &[&str] = &[
    "public_profile",
    "email",
    "user_age_range",
    "user_birthday",
    "user_friends",
    "user_gender",
    "user_hometown",
    "user_likes",
    "user_link",
    "user_location",
    "user_photos",
    "user_posts",
    "user_videos",
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_posts",
    "pages_manage_engagement",
    "pages_manage_metadata",
    "pages_manage_ads",
    "pages_messaging",
    "pages_messaging_subscriptions",
    "pages_manage_cta",
    "pages_manage_instant_articles",
    "pages_events",
    "pages_user_gender",
    "pages_user_locale",
    "pages_user_timezone",
    "read_insights",
    "business_management",
    "publish_video",
    "ads_read",
    "ads_management",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "instagram_manage_messages",
    "leads_retrieval",
    "whatsapp_business_management",
    "whatsapp_business_messaging",
    "catalog_management",
    "read_page_mailboxes",
];

/// Always granted, cannot be declined.
pub const PUBLIC_PROFILE: &str = "public_profile";

pub fn is_known(name: &str) -> bool {
    KNOWN.contains(&name)
}

/// Permissions that apply to chosen Pages: `debug_token`'s `granular_scopes` lists their targets.
pub fn is_page_scoped(name: &str) -> bool {
    name.starts_with("pages_") || name == "read_insights" || name == "read_page_mailboxes"
}

/// Splits a scope list as clients send it: comma or space separated (spec §2.1).
pub fn split_scope(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty())
}

/// A scope list as the login flows take it: the known names, in order and without
/// duplicates, or every unknown name (without duplicates) when there is one.
pub fn parse_scope(s: &str) -> Result<Vec<String>, Vec<&str>> {
    let mut known: Vec<String> = Vec::new();
    let mut unknown: Vec<&str> = Vec::new();
    // Unknown names may be many (a long list of made-up ones): a set keeps them linear. Known
    // ones are at most the permissions there are.
    let mut unknown_seen = std::collections::HashSet::new();
    for name in split_scope(s) {
        if !is_known(name) {
            if unknown_seen.insert(name) {
                unknown.push(name);
            }
        } else if !known.iter().any(|k| k == name) {
            known.push(name.to_string());
        }
    }
    if unknown.is_empty() {
        Ok(known)
    } else {
        Err(unknown)
    }
}

/// Plain words for a permission, as the login dialog shows them; a generic phrase for unknown names.
pub fn describe(name: &str) -> &'static str {
    match name {
        "public_profile" => "Your name and profile picture",
        "email" => "Your email address",
        "user_age_range" => "Your age range",
        "user_birthday" => "Your birthday",
        "user_friends" => "Your friends who also use this app",
        "user_gender" => "Your gender",
        "user_hometown" => "Your hometown",
        "user_likes" => "Pages you like",
        "user_link" => "A link to your profile",
        "user_location" => "Your current city",
        "user_photos" => "Your photos",
        "user_posts" => "Posts on your profile",
        "user_videos" => "Your videos",
        "pages_show_list" => "Show a list of the Pages you manage",
        "pages_read_engagement" => {
            "Read content posted on your Pages and how people engage with it"
        }
        "pages_read_user_content" => "Read posts, comments and ratings people leave on your Pages",
        "pages_manage_posts" => "Create, edit and delete your Page posts",
        "pages_manage_engagement" => "Manage comments and reactions on your Pages",
        "pages_manage_metadata" => "Manage your Pages' settings and webhooks",
        "pages_manage_ads" => "Create and manage ads for your Pages",
        "pages_messaging" => "Send and receive messages as your Pages",
        "pages_messaging_subscriptions" => "Send regular messages from your Pages",
        "pages_manage_cta" => "Manage the call-to-action buttons on your Pages",
        "pages_manage_instant_articles" => "Manage Instant Articles for your Pages",
        "pages_events" => "Log activity on your Pages for ads measurement",
        "pages_user_gender" => "See the gender of people who message your Pages",
        "pages_user_locale" => "See the language of people who message your Pages",
        "pages_user_timezone" => "See the time zone of people who message your Pages",
        "read_insights" => "Read insights for your Pages, apps and domains",
        "business_management" => "Manage your businesses and their assets",
        "publish_video" => "Publish live videos to your profile, groups and Pages",
        "ads_read" => "Read your ad accounts' reports",
        "ads_management" => "Manage your ads and ad accounts",
        "instagram_basic" => "Your Instagram profile and media",
        "instagram_content_publish" => "Publish posts to your Instagram account",
        "instagram_manage_comments" => "Manage comments on your Instagram account",
        "instagram_manage_insights" => "Read insights for your Instagram account",
        "instagram_manage_messages" => "Send and receive your Instagram messages",
        "leads_retrieval" => "Download leads from your Pages' lead ads",
        "whatsapp_business_management" => "Manage your WhatsApp Business accounts",
        "whatsapp_business_messaging" => "Send and receive WhatsApp Business messages",
        "catalog_management" => "Manage your product catalogs",
        "read_page_mailboxes" => "Read your Pages' inboxes",
        _ => DESCRIBE_FALLBACK,
    }
}

/// What [`describe`] says of a name it has no words for.
const DESCRIBE_FALLBACK: &str = "Access to part of your account";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lists_split_on_commas_and_spaces() {
        let v: Vec<_> = split_scope("email, pages_show_list pages_manage_posts,,").collect();
        assert_eq!(v, ["email", "pages_show_list", "pages_manage_posts"]);
    }

    #[test]
    fn scope_lists_parse_to_known_names() {
        assert_eq!(
            parse_scope("email,email pages_show_list"),
            Ok(vec!["email".to_string(), "pages_show_list".to_string()])
        );
        assert_eq!(parse_scope("emale,email,x,emale"), Err(vec!["emale", "x"]));
        assert_eq!(parse_scope(""), Ok(Vec::new()));
    }

    #[test]
    fn catalogue_has_no_duplicates() {
        let mut v = KNOWN.to_vec();
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), KNOWN.len());
        assert!(is_known("pages_manage_posts") && !is_known("manage_pages"));
    }

    #[test]
    fn describe_has_specific_words_for_every_known_permission() {
        for name in KNOWN {
            let d = describe(name);
            assert_ne!(d, DESCRIBE_FALLBACK, "{name} has no description");
            assert!(!d.is_empty());
        }
        assert_eq!(describe("manage_pages"), DESCRIBE_FALLBACK);
        assert_eq!(describe("email"), "Your email address");
    }
}
