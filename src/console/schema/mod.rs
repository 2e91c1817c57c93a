//! The GraphQL schema (async-graphql): [`query`], [`mutation`],
//! [`subscription`], the object [`types`] and [`history`], and what every
//! resolver shares:
//! the scope check and the error codes.

pub mod history;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use super::Console;
use super::scopes::Scope;
use crate::api::bridge::Error as ApiError;
use async_graphql::{Context, ErrorExtensions, Schema};
use std::sync::Arc;

/// The console's schema.
pub type ConsoleSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Deepest selection accepted.
pub const MAX_DEPTH: usize = 12;
/// Most fields one operation may select.
pub const MAX_COMPLEXITY: usize = 2_000;

/// The schema over `console`, with its depth and complexity limits.
pub fn build(console: Arc<Console>) -> ConsoleSchema {
    Schema::build(query::Query, mutation::Mutation, subscription::Subscription)
        .data(console)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The scope a request was granted, in its data (`None`: no console scope).
#[derive(Debug, Clone, Copy)]
pub struct Granted(pub Option<Scope>);

/// A GraphQL error with `extensions.code`.
pub fn coded(code: &'static str, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

/// The console, if the request's scope reaches `needed`; else `FORBIDDEN`.
pub fn require<'a>(ctx: &Context<'a>, needed: Scope) -> async_graphql::Result<&'a Console> {
    let granted = ctx.data_opt::<Granted>().and_then(|g| g.0);
    if granted.is_none_or(|g| g < needed) {
        return Err(coded(
            "FORBIDDEN",
            format!(
                "this needs the '{}' scope; the credential has {}",
                needed.name(),
                granted.map_or("none".to_string(), |g| format!("'{}'", g.name()))
            ),
        ));
    }
    Ok(ctx.data_unchecked::<Arc<Console>>())
}

/// An API error as a GraphQL error, its AWS code in `extensions.code`.
pub fn api_error(e: ApiError) -> async_graphql::Error {
    coded(e.code, format!("{}: {}", e.code, e.message))
}

#[cfg(test)]
mod tests;
