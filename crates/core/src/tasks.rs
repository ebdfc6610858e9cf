//! Page tasks and the classic Page roles that map onto them (spec §3).

/// The six classic Page tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Task {
    Advertise,
    Analyze,
    CreateContent,
    Manage,
    Messaging,
    Moderate,
}

impl Task {
    pub const ALL: [Task; 6] = [
        Task::Advertise,
        Task::Analyze,
        Task::CreateContent,
        Task::Manage,
        Task::Messaging,
        Task::Moderate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Task::Advertise => "ADVERTISE",
            Task::Analyze => "ANALYZE",
            Task::CreateContent => "CREATE_CONTENT",
            Task::Manage => "MANAGE",
            Task::Messaging => "MESSAGING",
            Task::Moderate => "MODERATE",
        }
    }

    pub fn parse(s: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.as_str() == s)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of tasks, as a bit set.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TaskSet(u8);

impl TaskSet {
    pub const EMPTY: TaskSet = TaskSet(0);

    pub fn of(tasks: &[Task]) -> TaskSet {
        tasks.iter().fold(TaskSet::EMPTY, |s, t| s.with(*t))
    }
    pub fn with(self, t: Task) -> TaskSet {
        TaskSet(self.0 | t.bit())
    }
    pub fn contains(self, t: Task) -> bool {
        self.0 & t.bit() != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Task> {
        Task::ALL.into_iter().filter(move |t| self.contains(*t))
    }
    /// The order Facebook lists tasks in `/me/accounts` (the spec §2.7 sample).
    pub fn names(self) -> Vec<&'static str> {
        const ORDER: [Task; 6] = [
            Task::Analyze,
            Task::Advertise,
            Task::Messaging,
            Task::Moderate,
            Task::CreateContent,
            Task::Manage,
        ];
        ORDER
            .into_iter()
            .filter(|t| self.contains(*t))
            .map(Task::as_str)
            .collect()
    }
    /// Stored form: task names joined with commas.
    pub fn to_csv(self) -> String {
        self.iter().map(Task::as_str).collect::<Vec<_>>().join(",")
    }
    /// Parses the stored form; unknown names are skipped.
    pub fn from_csv(s: &str) -> TaskSet {
        TaskSet::of(&s.split(',').filter_map(Task::parse).collect::<Vec<_>>())
    }
}

impl std::fmt::Debug for TaskSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Task::as_str))
            .finish()
    }
}

/// A classic Page role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageRole {
    Admin,
    Editor,
    Moderator,
    Advertiser,
    Analyst,
}

impl PageRole {
    pub const ALL: [PageRole; 5] = [
        PageRole::Admin,
        PageRole::Editor,
        PageRole::Moderator,
        PageRole::Advertiser,
        PageRole::Analyst,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PageRole::Admin => "Admin",
            PageRole::Editor => "Editor",
            PageRole::Moderator => "Moderator",
            PageRole::Advertiser => "Advertiser",
            PageRole::Analyst => "Analyst",
        }
    }

    pub fn parse(s: &str) -> Option<PageRole> {
        PageRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The role → tasks table of spec §3.
    pub fn tasks(self) -> TaskSet {
        use Task::*;
        match self {
            PageRole::Admin => TaskSet::of(&[
                Manage,
                CreateContent,
                Moderate,
                Messaging,
                Advertise,
                Analyze,
            ]),
            PageRole::Editor => {
                TaskSet::of(&[CreateContent, Moderate, Messaging, Advertise, Analyze])
            }
            PageRole::Moderator => TaskSet::of(&[Moderate, Messaging, Advertise, Analyze]),
            PageRole::Advertiser => TaskSet::of(&[Advertise, Analyze]),
            PageRole::Analyst => TaskSet::of(&[Analyze]),
        }
    }
}

/// Parses a list of tasks as clients send it: a JSON array (`["MANAGE"]`, the business SDK),
/// a Python-style list (`['ADVERTISE', 'ANALYZE']`, the docs' curl examples) or a comma list
/// (`MANAGE,ANALYZE`, Koala). Returns the first unknown name, and its place in the list
/// (counted from 0, blanks counted), on failure.
pub fn parse_list(s: &str) -> Result<TaskSet, (usize, String)> {
    let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
    let names = inner
        .split(',')
        .map(|name| name.trim().trim_matches(|c| c == '"' || c == '\'').trim())
        .enumerate()
        .filter(|(_, name)| !name.is_empty());
    let mut set = TaskSet::EMPTY;
    for (at, name) in names {
        set = set.with(Task::parse(name).ok_or_else(|| (at, name.to_string()))?);
    }
    Ok(set)
}

/// The legacy `perms` strings (before v3.1) for a task set (spec §3, rough mapping).
pub fn legacy_perms(tasks: TaskSet) -> Vec<&'static str> {
    let mut v = Vec::new();
    if tasks.contains(Task::Manage) {
        v.extend(["ADMINISTER", "EDIT_PROFILE"]);
    }
    if tasks.contains(Task::CreateContent) {
        v.push("CREATE_CONTENT");
    }
    if tasks.contains(Task::Moderate) || tasks.contains(Task::Messaging) {
        v.push("MODERATE_CONTENT");
    }
    if tasks.contains(Task::Advertise) {
        v.push("CREATE_ADS");
    }
    if tasks.contains(Task::Analyze) {
        v.push("BASIC_ADMIN");
    }
    v
}

/// The classic role a task set amounts to (the highest whose defining task is held).
pub fn role_of(tasks: TaskSet) -> Option<&'static str> {
    [
        (Task::Manage, "Admin"),
        (Task::CreateContent, "Editor"),
        (Task::Moderate, "Moderator"),
        (Task::Messaging, "Moderator"),
        (Task::Advertise, "Advertiser"),
        (Task::Analyze, "Analyst"),
    ]
    .into_iter()
    .find(|(t, _)| tasks.contains(*t))
    .map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_lists_in_every_client_form() {
        let want = TaskSet::of(&[Task::Advertise, Task::Analyze]);
        assert_eq!(parse_list(r#"["ADVERTISE","ANALYZE"]"#), Ok(want));
        assert_eq!(parse_list("['ADVERTISE', 'ANALYZE']"), Ok(want));
        assert_eq!(parse_list("ADVERTISE,ANALYZE"), Ok(want));
        assert_eq!(parse_list("[]"), Ok(TaskSet::EMPTY));
        assert_eq!(parse_list("MANAGES"), Err((0, "MANAGES".to_string())));
        assert_eq!(
            parse_list(r#"["MANAGE", "ANALYZE", "MANAGE_LEADS"]"#),
            Err((2, "MANAGE_LEADS".to_string()))
        );
        assert_eq!(parse_list("MANAGE,,BAD"), Err((2, "BAD".to_string())));
        assert_eq!(legacy_perms(PageRole::Admin.tasks()).len(), 6);
        assert_eq!(role_of(PageRole::Editor.tasks()), Some("Editor"));
        assert_eq!(role_of(TaskSet::EMPTY), None);
    }

    #[test]
    fn roles_map_to_the_spec_table() {
        assert_eq!(PageRole::Admin.tasks().iter().count(), 6);
        assert!(!PageRole::Editor.tasks().contains(Task::Manage));
        assert!(PageRole::Editor.tasks().contains(Task::CreateContent));
        assert!(!PageRole::Moderator.tasks().contains(Task::CreateContent));
        assert_eq!(
            PageRole::Advertiser.tasks(),
            TaskSet::of(&[Task::Advertise, Task::Analyze])
        );
        assert_eq!(PageRole::Analyst.tasks(), TaskSet::of(&[Task::Analyze]));
        assert_eq!(PageRole::parse("admin"), None);
    }

    #[test]
    fn csv_round_trips() {
        let s = TaskSet::of(&[Task::Manage, Task::Analyze]);
        assert_eq!(TaskSet::from_csv(&s.to_csv()), s);
        assert_eq!(s.names(), vec!["ANALYZE", "MANAGE"]);
        assert_eq!(TaskSet::from_csv(""), TaskSet::EMPTY);
    }
}
