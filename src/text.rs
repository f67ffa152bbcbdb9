//! How a value the user typed is quoted in a message. A leaf below every module that phrases
//! messages (config, naming, output), so that quoting needs no terminal writer.

use std::borrow::Cow;

/// A value the user typed (a command-line value, a path), for a message: as is when it is plain
/// text, else quoted with its control characters escaped (`"\u{1b}[31mx"`, `"a\nb"`), as config
/// values are shown, so it can neither drive the terminal nor forge lines of output.
pub fn shown(value: &str) -> Cow<'_, str> {
    if value.chars().any(char::is_control) {
        Cow::Owned(format!("{value:?}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// [`shown`] for a path.
pub fn shown_path(path: &std::path::Path) -> String {
    shown(&path.to_string_lossy()).into_owned()
}
