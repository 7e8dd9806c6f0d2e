//! The words said back when a sentence is not acted on.

/// What the assistant can do, for `help`.
pub const HELP: &str = "I can keep your to-do list. Try:\n\
- \"add buy milk tomorrow at 5pm #groceries\" or \"remind me to call mom at 6pm\"\n\
- \"add gym every tuesday and thursday at 7pm\", \"pay rent on the 1st of every month\"\n\
- \"show my tasks\", \"what's due this week?\", \"what's overdue?\", \"search for dentist\"\n\
- \"mark task 2 as done\", \"complete buy milk\"\n\
- \"move task 2 to friday at 4pm\", \"rename task 1 to buy oat milk\", \"tag task 5 with home\"\n\
- \"delete task 4\"";

pub(crate) const NOT_UNDERSTOOD: &str = "Sorry, I didn't understand that. I can add, list, complete, change and \
delete tasks: try \"add buy milk tomorrow at 5pm\", \"show my tasks\" or \"mark task 2 as done\". Say \"help\" for more.";

pub(crate) const EMPTY: &str = "What would you like to do? Say \"help\" to see what I can do.";

pub(crate) const THANKS: &str = "You're welcome! Anything else for your list?";

pub(crate) const NO_TITLE: &str = "What is the task? For example: \"add buy milk tomorrow at 5pm\".";

pub(crate) const TITLE_TOO_LONG: &str =
    "That task title is too long (200 characters at most). Could you say it more briefly?";

pub(crate) const WHICH_DELETE: &str = "Which task should I delete? Give its number from your last list (\"delete task 2\") \
or its title (\"delete buy milk\").";

pub(crate) const BULK_DELETE: &str = "To be safe I delete one task at a time. Which task should I delete? Give its number \
from your last list or its title.";

pub(crate) const WHICH_COMPLETE: &str = "Which task is done? Give its number from your last list (\"mark task 2 as done\") \
or its title (\"complete buy milk\").";

pub(crate) const WHICH_UPDATE: &str = "Which task should I change? Give its number from your last list (\"move task 2 to \
friday\") or its title.";

pub(crate) const WHAT_UPDATE: &str = "What should I change? For example: \"move task 2 to friday at 4pm\", \"rename task 2 \
to buy oat milk\", \"change the priority of task 2 to high\" or \"tag task 2 with home\".";

pub(crate) const WHEN_MOVE: &str = "When should it be due? For example: \"move task 2 to friday at 4pm\".";

pub(crate) const REMINDER_NEEDS_TIME: &str = "When should I remind you? Give a time, for example: \"remind me about task \
2 tomorrow at 9am\".";

pub(crate) const DESCRIPTION_TOO_LONG: &str =
    "That note is too long (10,000 characters at most). Could you shorten it?";

pub(crate) const WHICH_SKIP: &str = "Which recurring task should I skip? Give its number from your last list or its title \
(\"skip the team meeting\").";

pub(crate) const NO_DUE_TO_SHIFT: &str =
    "That task has no due date to move from. When should it be due? For example: \"move it to friday at 4pm\".";

pub(crate) const REMINDER_NEEDS_DUE: &str = "That task has no due time to count back from. When should I remind you? \
For example: \"remind me tomorrow at 9am\".";

pub(crate) const BULK_UNCLEAR: &str = "Which tasks do you mean? Say it as you would ask for a list, for example \
\"complete all my #work tasks\" or \"delete all completed tasks\".";

pub(crate) const HOW_OFTEN: &str = "How often should it repeat? For example: \"make it every monday\", \"make it \
weekly\" or \"every 2 weeks\".";
