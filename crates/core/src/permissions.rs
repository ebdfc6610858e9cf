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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_lists_split_on_commas_and_spaces() {
        let v: Vec<_> = split_scope("email, pages_show_list pages_manage_posts,,").collect();
        assert_eq!(v, ["email", "pages_show_list", "pages_manage_posts"]);
    }

    #[test]
    fn catalogue_has_no_duplicates() {
        let mut v = KNOWN.to_vec();
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), KNOWN.len());
        assert!(is_known("pages_manage_posts") && !is_known("manage_pages"));
    }
}
