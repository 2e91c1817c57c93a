//! TagResource, UntagResource and ListTagsForResource, for state machines
//! and activities.

use super::Api;
use super::arn::Kind;
use super::catalog::Tag;
use super::errors::{ApiError, ApiResult};
use super::protocol::{check_len, empty, parse, reply};
use super::state_machines::check_tags;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

fn not_found(arn: &str) -> ApiError {
    ApiError::new("ResourceNotFound", format!("Resource not found: '{arn}'"))
}

impl Api {
    /// The tags of the resource `arn` names.
    fn tags_of(&self, arn: &str) -> ApiResult<Vec<Tag>> {
        check_len("resourceArn", arn, 1, 256)?;
        let parsed = self
            .arns
            .parse(arn, &[Kind::StateMachine, Kind::Activity], 1, 1)?;
        let name = parsed.parts[0];
        let tags = match (parsed.local, parsed.kind) {
            (false, _) => None,
            (true, Kind::StateMachine) => self.catalog.get(name).map(|e| e.record.tags.clone()),
            (true, _) => self.activities.get(name).map(|a| a.tags.clone()),
        };
        tags.ok_or_else(|| not_found(arn))
    }

    /// Applies `change` to the tags of the resource `arn` names.
    fn change_tags(
        &self,
        arn: &str,
        change: impl FnOnce(&mut Vec<Tag>) -> ApiResult<()>,
    ) -> ApiResult<()> {
        check_len("resourceArn", arn, 1, 256)?;
        let parsed = self
            .arns
            .parse(arn, &[Kind::StateMachine, Kind::Activity], 1, 1)?;
        if !parsed.local {
            return Err(not_found(arn));
        }
        let name = parsed.parts[0];
        match parsed.kind {
            Kind::StateMachine => {
                if self.catalog.get(name).is_none() {
                    return Err(not_found(arn));
                }
                self.catalog.change(name, |r| change(&mut r.tags))?;
                Ok(())
            }
            _ => self
                .activities
                .change_tags(name, change)?
                .ok_or_else(|| not_found(arn)),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagInput {
    resource_arn: String,
    tags: Vec<Tag>,
}

pub(super) fn tag(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: TagInput = parse(body)?;
    check_tags(&input.tags)?;
    api.change_tags(&input.resource_arn, |tags| {
        for new in input.tags {
            match tags.iter_mut().find(|t| t.key == new.key) {
                Some(t) => t.value = new.value,
                None => tags.push(new),
            }
        }
        check_tags(tags)
    })?;
    Ok(empty())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UntagInput {
    resource_arn: String,
    tag_keys: Vec<String>,
}

pub(super) fn untag(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: UntagInput = parse(body)?;
    for key in &input.tag_keys {
        check_len("tagKeys.member", key, 1, 128)?;
    }
    api.change_tags(&input.resource_arn, |tags| {
        tags.retain(|t| !input.tag_keys.contains(&t.key));
        Ok(())
    })?;
    Ok(empty())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListInput {
    resource_arn: String,
}

pub(super) fn list(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: ListInput = parse(body)?;
    let tags = api.tags_of(&input.resource_arn)?;
    Ok(reply(&json!({ "tags": tags })))
}
