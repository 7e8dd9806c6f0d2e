//! Whole-turn answers: "yes", "no", "undo" and their many ways of being said.

const YES: &[&[&str]] = &[
    &["yes"],
    &["y"],
    &["yeah"],
    &["yea"],
    &["yep"],
    &["yup"],
    &["sure"],
    &["ok"],
    &["okay"],
    &["k"],
    &["confirm"],
    &["confirmed"],
    &["do", "it"],
    &["go", "ahead"],
    &["go", "for", "it"],
    &["please", "do"],
    &["absolutely"],
    &["correct"],
    &["affirmative"],
    &["of", "course"],
    &["definitely"],
    &["right"],
    &["that's", "right"],
    &["proceed"],
    &["yes", "do", "it"],
    &["yes", "go", "ahead"],
    &["ok", "do", "it"],
    &["okay", "do", "it"],
    &["sure", "go", "ahead"],
    &["yes", "please"],
    &["yes", "all", "of", "them"],
    &["all", "of", "them"],
    &["do", "them", "all"],
];

/// "no" at any time (a no-op when nothing was asked).
const NO: &[&[&str]] = &[
    &["no"],
    &["n"],
    &["nope"],
    &["nah"],
    &["never", "mind"],
    &["nevermind"],
    &["nvm"],
    &["no", "thanks"],
    &["no", "thank", "you"],
    &["no", "way"],
];

/// "no" to a question asked; otherwise "cancel it" deletes what it names.
pub(super) const NO_ANSWER: &[&[&str]] = &[
    &["cancel"],
    &["cancel", "that"],
    &["cancel", "it"],
    &["don't"],
    &["dont"],
    &["do", "not"],
    &["don't", "do", "it"],
    &["dont", "do", "it"],
    &["do", "not", "do", "it"],
    &["stop"],
    &["abort"],
    &["forget", "it"],
    &["leave", "it"],
    &["leave", "them"],
    &["keep", "them"],
    &["not", "now"],
];

const UNDO: &[&[&str]] = &[
    &["undo"],
    &["undo", "that"],
    &["undo", "it"],
    &["undo", "this"],
    &["undo", "last"],
    &["undo", "the", "last", "one"],
    &["undo", "the", "last", "change"],
    &["undo", "my", "last", "change"],
    &["undo", "the", "last", "action"],
    &["undo", "that", "change"],
    &["undo", "the", "change"],
    &["undo", "again"],
    &["undo", "that", "too"],
    &["undo", "that", "as", "well"],
    &["undo", "one", "more"],
    &["and", "undo"],
    &["oops", "undo"],
    &["revert"],
    &["revert", "that"],
    &["revert", "it"],
    &["revert", "the", "last", "change"],
    &["take", "that", "back"],
    &["take", "it", "back"],
    &["scratch", "that"],
    &["go", "back"],
    &["ctrl+z"],
];

pub(super) fn one_of(w: &[&str], phrases: &[&[&str]]) -> bool {
    phrases.contains(&w)
}

pub(super) fn is_yes(w: &[&str]) -> bool {
    one_of(w, YES)
}

pub(super) fn is_no(w: &[&str]) -> bool {
    one_of(w, NO)
}

pub(super) fn is_undo(w: &[&str]) -> bool {
    one_of(w, UNDO) || (w.len() > 1 && w[..w.len() - 1].iter().all(|x| *x == "undo") && w.last() == Some(&"undo"))
}
