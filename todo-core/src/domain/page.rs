//! Pagination: one page shape ([`Page`]) and one page size ([`PageLimit`]) for
//! every listing (tasks, audit entries, notifications, chat messages).
//!
//! A listing fetches one item more than the page holds ([`PageLimit::overfetch`]):
//! the extra item only tells that another page exists, and [`Page::cut`] turns
//! the fetched items into the page and the next page's cursor. The cursor is
//! opaque to clients; each listing decides what it encodes (a keyset position, a
//! sequence number, an event id).

use std::borrow::Cow;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::{AuditEntry, Message, Notification, Task, ValidationError};

/// Default page size.
pub const PAGE_DEFAULT: u32 = 50;
/// Largest page size.
pub const PAGE_MAX: u32 = 200;

/// A page size a client asked for: 1 to [`PAGE_MAX`], [`PAGE_DEFAULT`] when not given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageLimit(u32);

impl PageLimit {
    /// [`PAGE_DEFAULT`].
    pub const DEFAULT: Self = Self(PAGE_DEFAULT);
    /// [`PAGE_MAX`].
    pub const MAX: Self = Self(PAGE_MAX);

    /// `n` if it is 1 to [`PAGE_MAX`].
    pub fn new(n: i64) -> Result<Self, ValidationError> {
        match u32::try_from(n) {
            Ok(n) if (1..=PAGE_MAX).contains(&n) => Ok(Self(n)),
            _ => Err(ValidationError::new("limit", format!("limit must be between 1 and {PAGE_MAX}; got {n}"))),
        }
    }

    /// A page size given as text (a query parameter).
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let n: i64 = s
            .trim()
            .parse()
            .map_err(|_| ValidationError::new("limit", format!("limit must be an integer; got {s:?}")))?;
        Self::new(n)
    }

    /// An optional query parameter: [`PageLimit::DEFAULT`] when absent.
    pub fn from_param(s: Option<&str>) -> Result<Self, ValidationError> {
        s.map_or(Ok(Self::DEFAULT), Self::parse)
    }

    /// An optional number (a tool argument): [`PageLimit::DEFAULT`] when absent.
    pub fn from_number(n: Option<i64>) -> Result<Self, ValidationError> {
        n.map_or(Ok(Self::DEFAULT), Self::new)
    }

    /// The page size.
    pub fn get(self) -> u32 {
        self.0
    }

    /// How many items to fetch for a page of this size: one more, which only
    /// tells whether another page exists (see [`Page::cut`]).
    pub fn overfetch(self) -> u32 {
        self.0 + 1
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl From<PageLimit> for u32 {
    fn from(l: PageLimit) -> Self {
        l.0
    }
}

/// Parses a page cursor of type `T` (a sequence number, an event id); a cursor
/// that does not parse is a validation error on `cursor`.
pub fn parse_cursor<T: FromStr>(s: &str) -> Result<T, ValidationError> {
    s.parse().map_err(|_| ValidationError::new("cursor", "cursor is not valid for this listing"))
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Task listings with a filter: the text of each of its comma-separated lists,
    /// in order (ask for list `i` with `list=i`). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lists: Option<Vec<String>>,
}

impl<T> Page<T> {
    /// The page of `items`, up to `limit + 1` items in listing order: the extra
    /// one only tells that another page exists, and then the next page's cursor
    /// is `cursor_of` the page's last item.
    pub fn cut(mut items: Vec<T>, limit: u32, cursor_of: impl FnOnce(&T) -> String) -> Self {
        let limit = limit as usize;
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if more { items.last().map(cursor_of) } else { None };
        Self { items, next_cursor, lists: None }
    }
}

/// An item of a paginated listing, with what the OpenAPI document says about a
/// page of it.
pub trait PageItem: ToSchema {
    /// The name of the page's schema, e.g. `TaskPage`.
    const PAGE_NAME: &'static str;
    /// The page schema's description.
    const PAGE_DESCRIPTION: &'static str;
    /// The description of `next_cursor`, if the schema gives one.
    const CURSOR_DESCRIPTION: Option<&'static str> = None;
    /// The description of `lists`, for listings that have them.
    const LISTS_DESCRIPTION: Option<&'static str> = None;
}

impl PageItem for Task {
    const PAGE_NAME: &'static str = "TaskPage";
    const PAGE_DESCRIPTION: &'static str = "One page of a listing.";
    const CURSOR_DESCRIPTION: Option<&'static str> =
        Some("Pass as `cursor` to get the next page; absent on the last page.");
    const LISTS_DESCRIPTION: Option<&'static str> = Some(
        "With a filter: the text of each of its comma-separated lists, in order (ask\nfor list `i` with `list=i`). \
         Absent without a filter.",
    );
}

impl PageItem for AuditEntry {
    const PAGE_NAME: &'static str = "AuditPage";
    const PAGE_DESCRIPTION: &'static str = "A page of audit entries.";
}

impl PageItem for Notification {
    const PAGE_NAME: &'static str = "NotificationPage";
    const PAGE_DESCRIPTION: &'static str = "A page of notifications, newest first.";
}

impl PageItem for Message {
    const PAGE_NAME: &'static str = "MessagePage";
    const PAGE_DESCRIPTION: &'static str = "A page of messages, oldest first.";
}

impl<T: PageItem> PartialSchema for Page<T> {
    fn schema() -> RefOr<Schema> {
        let items = ArrayBuilder::new().items(RefOr::Ref(Ref::from_schema_name(T::name())));
        let cursor = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .description(T::CURSOR_DESCRIPTION);
        let mut page = ObjectBuilder::new()
            .description(Some(T::PAGE_DESCRIPTION))
            .property("items", items)
            .required("items")
            .property("next_cursor", cursor);
        if let Some(lists) = T::LISTS_DESCRIPTION {
            let lists = ArrayBuilder::new()
                .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
                .items(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(lists));
            page = page.property("lists", lists);
        }
        page.into()
    }
}

impl<T: PageItem> ToSchema for Page<T> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(T::PAGE_NAME)
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_with_the_messages_clients_see() {
        assert_eq!(PageLimit::from_param(None).unwrap().get(), PAGE_DEFAULT);
        assert_eq!(PageLimit::from_number(None).unwrap(), PageLimit::DEFAULT);
        assert_eq!(PageLimit::parse(" 200 ").unwrap(), PageLimit::MAX);
        assert_eq!(PageLimit::new(1).unwrap().overfetch(), 2);
        for (bad, message) in [
            ("0", "limit must be between 1 and 200; got 0"),
            ("201", "limit must be between 1 and 200; got 201"),
            ("-5", "limit must be between 1 and 200; got -5"),
            ("99999999999", "limit must be between 1 and 200; got 99999999999"),
            ("ten", "limit must be an integer; got \"ten\""),
        ] {
            let e = PageLimit::parse(bad).unwrap_err();
            assert_eq!((e.field.as_ref(), e.message.as_str()), ("limit", message));
        }
    }

    #[test]
    fn a_page_is_cut_from_one_item_too_many() {
        let full = Page::cut(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!((full.items, full.next_cursor), (vec![1, 2], Some("2".into())));
        let last = Page::cut(vec![1, 2], 2, |n| n.to_string());
        assert_eq!((last.items, last.next_cursor), (vec![1, 2], None));
        let empty = Page::<i32>::cut(vec![], 2, |n| n.to_string());
        assert!(empty.items.is_empty() && empty.next_cursor.is_none());
    }

    #[test]
    fn pages_other_than_tasks_have_no_lists_on_the_wire() {
        let page: Page<i32> = Page::cut(vec![1], 5, |n| n.to_string());
        assert_eq!(serde_json::to_string(&page).unwrap(), r#"{"items":[1],"next_cursor":null}"#);
        assert_eq!(parse_cursor::<i64>("7").unwrap(), 7);
        assert_eq!(parse_cursor::<i64>("x").unwrap_err().message, "cursor is not valid for this listing");
    }
}
