//! State machine actions: Create, Describe, List, Update, Delete,
//! PublishStateMachineVersion, ListStateMachineVersions and
//! ValidateStateMachineDefinition.

use super::Api;
use super::arn::Kind;
use super::catalog::{Entry, Logging, MachineRecord, Published, Tag, does_not_exist};
use super::errors::{ApiError, ApiResult};
use super::protocol::{
    check_len, check_name, check_opt_len, decode_token, empty, encode_token, now, page_size, parse,
    reply,
};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use spate_engine::registry::Version;
use std::sync::Arc;

/// A state machine ARN resolved: the machine, and the published version it
/// names, if it names one.
pub struct Resolved {
    /// The state machine.
    pub entry: Entry,
    /// The version the ARN names (`stateMachine:<name>:<n>`), if any.
    pub published: Option<Published>,
}

impl Resolved {
    /// The registry version executions of this ARN run.
    pub fn version(&self) -> Arc<Version> {
        match &self.published {
            Some(p) => self
                .entry
                .machine
                .version(p.revision)
                .unwrap_or_else(|| self.entry.machine.latest()),
            None => self.entry.machine.latest(),
        }
    }
}

impl Api {
    /// The state machine (or version) an ARN names.
    pub fn resolve_machine(&self, arn: &str) -> ApiResult<Resolved> {
        check_len("stateMachineArn", arn, 1, 256)?;
        let parsed = self.arns.parse(arn, &[Kind::StateMachine], 1, 2)?;
        let name = parsed.parts[0];
        let entry = parsed
            .local
            .then(|| self.catalog.get(name))
            .flatten()
            .ok_or_else(|| does_not_exist(arn))?;
        let published = match parsed.parts.get(1) {
            None => None,
            Some(n) => {
                let number: u32 = n.parse().map_err(|_| ApiError::invalid_arn(arn))?;
                let found = entry.record.published.iter().find(|p| p.number == number);
                Some(found.cloned().ok_or_else(|| does_not_exist(arn))?)
            }
        };
        Ok(Resolved { entry, published })
    }
}

fn state_machine_type(kind: Option<String>) -> ApiResult<String> {
    match kind.as_deref() {
        None => Ok("STANDARD".to_string()),
        Some(k @ ("STANDARD" | "EXPRESS")) => Ok(k.to_string()),
        Some(other) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
        ))),
    }
}

fn check_logging(logging: &Option<Logging>) -> ApiResult<()> {
    if let Some(l) = logging
        && !matches!(l.level.as_str(), "ALL" | "ERROR" | "FATAL" | "OFF")
    {
        return Err(ApiError::new(
            "InvalidLoggingConfiguration",
            format!(
                "Invalid Logging Configuration: level '{}' is not ALL, ERROR, FATAL or OFF",
                l.level
            ),
        ));
    }
    Ok(())
}

/// Checks tags against the model (keys 1 to 128 characters, values up to
/// 256) and AWS's limit of 50 per resource.
pub fn check_tags(tags: &[Tag]) -> ApiResult<()> {
    for tag in tags {
        check_len("tags.member.key", &tag.key, 1, 128)?;
        check_len("tags.member.value", &tag.value, 0, 256)?;
    }
    if tags.len() > 50 {
        return Err(ApiError::new(
            "TooManyTags",
            format!("Too many tags: {} (at most 50 per resource)", tags.len()),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Tracing {
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    name: String,
    definition: String,
    role_arn: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    logging_configuration: Option<Logging>,
    #[serde(default)]
    tags: Vec<Tag>,
    tracing_configuration: Option<Tracing>,
    #[serde(default)]
    publish: bool,
    version_description: Option<String>,
    #[allow(dead_code)]
    encryption_configuration: Option<Json>,
}

pub(super) fn create(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: CreateInput = parse(body)?;
    check_name(&input.name)?;
    check_len("definition", &input.definition, 1, 1_048_576)?;
    check_len("roleArn", &input.role_arn, 1, 256)?;
    check_opt_len(
        "versionDescription",
        input.version_description.as_deref(),
        0,
        256,
    )?;
    check_logging(&input.logging_configuration)?;
    check_tags(&input.tags)?;
    if input.version_description.is_some() && !input.publish {
        return Err(ApiError::validation(
            "versionDescription can only be set when publish is true",
        ));
    }
    let created = now().unix_millis();
    let mut record = MachineRecord {
        name: input.name,
        kind: state_machine_type(input.kind)?,
        role_arn: input.role_arn,
        created_ms: created,
        updated_ms: created,
        tags: input.tags,
        logging: input.logging_configuration.unwrap_or_default(),
        tracing: input.tracing_configuration.is_some_and(|t| t.enabled),
        revisions: vec![input.definition],
        published: Vec::new(),
    };
    if input.publish {
        record.published.push(Published {
            number: 1,
            revision: 1,
            created_ms: created,
            description: input.version_description,
        });
    }
    let entry = api.catalog.create(record)?;
    let name = &entry.record.name;
    let mut out = json!({
        "stateMachineArn": api.arns.state_machine(name),
        "creationDate": entry.record.created_ms as f64 / 1000.0,
    });
    if let Some(p) = entry.record.published.last() {
        out["stateMachineVersionArn"] = json!(api.arns.version(name, p.number));
    }
    Ok(reply(&out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArnInput {
    state_machine_arn: String,
    #[allow(dead_code)]
    included_data: Option<String>,
}

/// The model's `DescribeStateMachineOutput` of a resolved ARN.
pub fn describe_output(api: &Api, resolved: &Resolved) -> Json {
    let record = &resolved.entry.record;
    let version = resolved.version();
    let arn = match &resolved.published {
        Some(p) => api.arns.version(&record.name, p.number),
        None => api.arns.state_machine(&record.name),
    };
    let created = resolved
        .published
        .as_ref()
        .map_or(record.created_ms, |p| p.created_ms);
    let mut out = json!({
        "stateMachineArn": arn,
        "name": record.name,
        "status": "ACTIVE",
        "definition": &*version.definition,
        "roleArn": record.role_arn,
        "type": record.kind,
        "creationDate": created as f64 / 1000.0,
        "loggingConfiguration": logging_output(&record.logging),
        "tracingConfiguration": {"enabled": record.tracing},
        "revisionId": version.number.to_string(),
    });
    if let Some(description) = resolved
        .published
        .as_ref()
        .and_then(|p| p.description.as_ref())
    {
        out["description"] = json!(description);
    }
    out
}

fn logging_output(logging: &Logging) -> Json {
    let mut out = json!({
        "level": logging.level,
        "includeExecutionData": logging.include_execution_data,
    });
    if let Some(d) = &logging.destinations {
        out["destinations"] = d.clone();
    }
    out
}

pub(super) fn describe(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: ArnInput = parse(body)?;
    let resolved = api.resolve_machine(&input.state_machine_arn)?;
    Ok(reply(&describe_output(api, &resolved)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInput {
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) fn list(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: PageInput = parse(body)?;
    let size = page_size(input.max_results, 1000)?;
    check_opt_len("nextToken", input.next_token.as_deref(), 1, 1024)?;
    let after = input.next_token.as_deref().map(decode_token).transpose()?;
    let entries = api.catalog.list();
    let rest = entries.iter().filter(|e| {
        after
            .as_ref()
            .is_none_or(|a| e.record.name.as_str() > a.as_str())
    });
    let page: Vec<&Entry> = rest.take(size + 1).collect();
    let more = page.len() > size;
    let items: Vec<Json> = page
        .iter()
        .take(size)
        .map(|e| {
            json!({
                "stateMachineArn": api.arns.state_machine(&e.record.name),
                "name": e.record.name,
                "type": e.record.kind,
                "creationDate": e.record.created_ms as f64 / 1000.0,
            })
        })
        .collect();
    let mut out = json!({ "stateMachines": items });
    if more && let Some(last) = page.get(size - 1) {
        out["nextToken"] = json!(encode_token(&last.record.name));
    }
    Ok(reply(&out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateInput {
    state_machine_arn: String,
    definition: Option<String>,
    role_arn: Option<String>,
    logging_configuration: Option<Logging>,
    tracing_configuration: Option<Tracing>,
    #[serde(default)]
    publish: bool,
    version_description: Option<String>,
    #[allow(dead_code)]
    encryption_configuration: Option<Json>,
}

pub(super) fn update(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: UpdateInput = parse(body)?;
    check_opt_len("definition", input.definition.as_deref(), 1, 1_048_576)?;
    check_opt_len("roleArn", input.role_arn.as_deref(), 1, 256)?;
    check_opt_len(
        "versionDescription",
        input.version_description.as_deref(),
        0,
        256,
    )?;
    check_logging(&input.logging_configuration)?;
    let resolved = api.resolve_machine(&input.state_machine_arn)?;
    if resolved.published.is_some() {
        return Err(ApiError::validation(
            "a state machine version cannot be updated: pass the state machine's ARN",
        ));
    }
    if input.definition.is_none()
        && input.role_arn.is_none()
        && input.logging_configuration.is_none()
        && input.tracing_configuration.is_none()
        && !input.publish
    {
        return Err(ApiError::new(
            "MissingRequiredParameter",
            "Either the definition, roleArn, loggingConfiguration or tracingConfiguration must be specified",
        ));
    }
    if input.version_description.is_some() && !input.publish {
        return Err(ApiError::validation(
            "versionDescription can only be set when publish is true",
        ));
    }
    let name = resolved.entry.record.name.clone();
    let entry = api.catalog.change(&name, |record| {
        if let Some(definition) = input.definition
            && record.revisions.last() != Some(&definition)
        {
            record.revisions.push(definition);
        }
        if let Some(role) = input.role_arn {
            record.role_arn = role;
        }
        if let Some(logging) = input.logging_configuration {
            record.logging = logging;
        }
        if let Some(tracing) = input.tracing_configuration {
            record.tracing = tracing.enabled;
        }
        if input.publish {
            publish_latest(record, input.version_description);
        }
        Ok(())
    })?;
    let record = &entry.record;
    let mut out = json!({
        "updateDate": record.updated_ms as f64 / 1000.0,
        "revisionId": record.revisions.len().to_string(),
    });
    if input.publish
        && let Some(p) = record.published.last()
    {
        out["stateMachineVersionArn"] = json!(api.arns.version(&name, p.number));
    }
    Ok(reply(&out))
}

/// Publishes the latest revision, unless the newest version already is it.
fn publish_latest(record: &mut MachineRecord, description: Option<String>) {
    let revision = record.revisions.len() as u32;
    if record
        .published
        .last()
        .is_some_and(|p| p.revision == revision)
    {
        return;
    }
    let number = record.published.last().map_or(1, |p| p.number + 1);
    record.published.push(Published {
        number,
        revision,
        created_ms: now().unix_millis(),
        description,
    });
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteInput {
    state_machine_arn: String,
}

pub(super) fn delete(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: DeleteInput = parse(body)?;
    check_len("stateMachineArn", &input.state_machine_arn, 1, 256)?;
    let parsed = api
        .arns
        .parse(&input.state_machine_arn, &[Kind::StateMachine], 1, 1)?;
    // Deleting a state machine that does not exist succeeds, as on AWS.
    if parsed.local {
        api.catalog.delete(parsed.parts[0])?;
    }
    Ok(empty())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublishInput {
    state_machine_arn: String,
    revision_id: Option<String>,
    description: Option<String>,
}

pub(super) fn publish(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: PublishInput = parse(body)?;
    check_opt_len("description", input.description.as_deref(), 0, 256)?;
    let resolved = api.resolve_machine(&input.state_machine_arn)?;
    if resolved.published.is_some() {
        return Err(ApiError::validation(
            "pass the state machine's ARN, not a version's",
        ));
    }
    let name = resolved.entry.record.name.clone();
    let entry = api.catalog.change(&name, |record| {
        let current = record.revisions.len().to_string();
        if let Some(wanted) = &input.revision_id
            && *wanted != current
        {
            return Err(ApiError::new(
                "ConflictException",
                format!("revisionId '{wanted}' is not the current revision ('{current}')"),
            ));
        }
        publish_latest(record, input.description);
        Ok(())
    })?;
    let p = entry.record.published.last().expect("just published");
    Ok(reply(&json!({
        "creationDate": p.created_ms as f64 / 1000.0,
        "stateMachineVersionArn": api.arns.version(&name, p.number),
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionsInput {
    state_machine_arn: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) fn list_versions(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: VersionsInput = parse(body)?;
    let size = page_size(input.max_results, 1000)?;
    check_opt_len("nextToken", input.next_token.as_deref(), 1, 1024)?;
    let below: Option<u32> = match input.next_token.as_deref().map(decode_token).transpose()? {
        None => None,
        Some(t) => Some(
            t.parse()
                .map_err(|_| ApiError::new("InvalidToken", format!("Invalid Token: '{t}'")))?,
        ),
    };
    let resolved = api.resolve_machine(&input.state_machine_arn)?;
    let record = &resolved.entry.record;
    let newest_first = record
        .published
        .iter()
        .rev()
        .filter(|p| below.is_none_or(|b| p.number < b));
    let page: Vec<&Published> = newest_first.take(size + 1).collect();
    let items: Vec<Json> = page
        .iter()
        .take(size)
        .map(|p| {
            json!({
                "stateMachineVersionArn": api.arns.version(&record.name, p.number),
                "creationDate": p.created_ms as f64 / 1000.0,
            })
        })
        .collect();
    let mut out = json!({ "stateMachineVersions": items });
    if page.len() > size {
        out["nextToken"] = json!(encode_token(&page[size - 1].number.to_string()));
    }
    Ok(reply(&out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateInput {
    definition: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    severity: Option<String>,
    max_results: Option<i64>,
}

pub(super) fn validate(_api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: ValidateInput = parse(body)?;
    check_len("definition", &input.definition, 1, 1_048_576)?;
    state_machine_type(input.kind)?;
    match input.severity.as_deref() {
        None | Some("ERROR" | "WARNING") => {}
        Some(other) => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'severity' failed to satisfy constraint: Member must satisfy enum value set: [ERROR, WARNING]"
            )));
        }
    }
    let max = match input.max_results {
        None | Some(0) => 100,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 100"
            )));
        }
    };
    let options = spate_engine::plan::CompileOptions::default();
    let problems = match spate_engine::plan::from_definition(&input.definition, &options) {
        Ok(_) => Vec::new(),
        Err(d) => d.0,
    };
    let diagnostics: Vec<Json> = problems
        .iter()
        .take(max)
        .map(|d| {
            json!({
                "severity": "ERROR",
                "code": d.code,
                "message": d.message,
                "location": if d.pointer.is_empty() { "/" } else { d.pointer.as_str() },
            })
        })
        .collect();
    Ok(reply(&json!({
        "result": if problems.is_empty() { "OK" } else { "FAIL" },
        "diagnostics": diagnostics,
        "truncated": problems.len() > max,
    })))
}
