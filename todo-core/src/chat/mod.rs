//! The chat interpreter: a sentence, the current instant and the user's time zone
//! in; an intent with its arguments out. Deterministic, no network.
