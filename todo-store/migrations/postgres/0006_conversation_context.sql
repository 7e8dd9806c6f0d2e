-- What a conversation remembers between turns (docs/chat.md, "Conversations"):
-- `context` is the JSON of todo_core::domain::ConversationContext (the tasks "it"
-- refers to, the changes "undo" reverts, a bulk action waiting for a yes, the
-- last messages), saved in the transaction of the turn that changed it.
-- `version` counts the turns: a turn saves the conversation only if no other
-- turn did meanwhile (two chat-api instances, two browser tabs).
ALTER TABLE conversations
    ADD COLUMN context jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(context) = 'object'),
    ADD COLUMN version bigint NOT NULL DEFAULT 0 CHECK (version >= 0);
