//! Activities: CreateActivity, DescribeActivity, ListActivities,
//! DeleteActivity (persisted in the data directory like state machines) and
//! GetActivityTask (see `activity_tasks`).

use super::Api;
use super::activity_tasks::ActivityBoard;
use super::arn::Kind;
use super::catalog::Tag;
use super::errors::{ApiError, ApiResult};
use super::persist::{DataDir, Folder};
use super::protocol::{
    check_len, check_name, check_opt_len, decode_token, empty, encode_token, now, page_size, parse,
    reply,
};
use super::state_machines::check_tags;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

/// An activity (also its file in the data directory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRecord {
    /// Its name.
    pub name: String,
    /// Creation date (epoch milliseconds).
    pub created_ms: i64,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// Activities by name.
pub struct Activities {
    board: Arc<ActivityBoard>,
    records: RwLock<BTreeMap<String, Arc<ActivityRecord>>>,
    writer: Mutex<()>,
    dir: Option<DataDir>,
}

fn io_error(what: &str, e: std::io::Error) -> ApiError {
    ApiError::new(
        "InternalFailure",
        format!("cannot persist activity {what}: {e}"),
    )
    .with_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
}

impl Activities {
    /// The activities of `dir` (none without one), announced on `board`.
    pub fn open(dir: Option<DataDir>, board: Arc<ActivityBoard>) -> anyhow::Result<Activities> {
        let mut records = BTreeMap::new();
        if let Some(dir) = &dir {
            for (path, bytes) in dir.read_all(Folder::Activities)? {
                let record: ActivityRecord = serde_json::from_slice(&bytes).map_err(|e| {
                    anyhow::anyhow!("{}: not an activity record: {e}", path.display())
                })?;
                board.set_known(&record.name, true);
                records.insert(record.name.clone(), Arc::new(record));
            }
        }
        Ok(Activities {
            board,
            records: RwLock::new(records),
            writer: Mutex::new(()),
            dir,
        })
    }

    /// The activity `name`.
    pub fn get(&self, name: &str) -> Option<Arc<ActivityRecord>> {
        self.records
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    fn persist(&self, record: &ActivityRecord) -> ApiResult<()> {
        match &self.dir {
            None => Ok(()),
            Some(dir) => dir
                .write(
                    Folder::Activities,
                    &record.name,
                    &serde_json::to_vec_pretty(record).expect("records serialize"),
                )
                .map_err(|e| io_error(&record.name, e)),
        }
    }

    /// Creates `record`, or returns the existing activity of that name
    /// (CreateActivity is idempotent).
    fn create(&self, record: ActivityRecord) -> ApiResult<Arc<ActivityRecord>> {
        let _turn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = self.get(&record.name) {
            return Ok(existing);
        }
        self.persist(&record)?;
        self.board.set_known(&record.name, true);
        let record = Arc::new(record);
        self.records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(record.name.clone(), Arc::clone(&record));
        Ok(record)
    }

    /// Changes the tags of activity `name`; `None` if there is none.
    pub fn change_tags(
        &self,
        name: &str,
        change: impl FnOnce(&mut Vec<Tag>) -> ApiResult<()>,
    ) -> ApiResult<Option<()>> {
        let _turn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let Some(existing) = self.get(name) else {
            return Ok(None);
        };
        let mut record = (*existing).clone();
        change(&mut record.tags)?;
        self.persist(&record)?;
        self.records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), Arc::new(record));
        Ok(Some(()))
    }

    fn delete(&self, name: &str) -> ApiResult<()> {
        let _turn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = &self.dir {
            dir.remove(Folder::Activities, name)
                .map_err(|e| io_error(name, e))?;
        }
        self.board.set_known(name, false);
        self.records
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        Ok(())
    }

    fn list(&self) -> Vec<Arc<ActivityRecord>> {
        self.records
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }
}

impl Api {
    /// The activity an ARN names: its name, or `ActivityDoesNotExist`.
    pub fn resolve_activity(&self, arn: &str) -> ApiResult<Arc<ActivityRecord>> {
        check_len("activityArn", arn, 1, 256)?;
        let parsed = self.arns.parse(arn, &[Kind::Activity], 1, 1)?;
        parsed
            .local
            .then(|| self.activities.get(parsed.parts[0]))
            .flatten()
            .ok_or_else(|| {
                ApiError::new(
                    "ActivityDoesNotExist",
                    format!("Activity Does Not Exist: '{arn}'"),
                )
            })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    name: String,
    #[serde(default)]
    tags: Vec<Tag>,
    #[allow(dead_code)]
    encryption_configuration: Option<Json>,
}

pub(super) fn create(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: CreateInput = parse(body)?;
    check_name(&input.name)?;
    check_tags(&input.tags)?;
    let record = api.activities.create(ActivityRecord {
        name: input.name,
        created_ms: now().unix_millis(),
        tags: input.tags,
    })?;
    Ok(reply(&json!({
        "activityArn": api.arns.activity(&record.name),
        "creationDate": record.created_ms as f64 / 1000.0,
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArnInput {
    activity_arn: String,
}

pub(super) fn describe(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: ArnInput = parse(body)?;
    let record = api.resolve_activity(&input.activity_arn)?;
    Ok(reply(&json!({
        "activityArn": api.arns.activity(&record.name),
        "name": record.name,
        "creationDate": record.created_ms as f64 / 1000.0,
    })))
}

pub(super) fn delete(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: ArnInput = parse(body)?;
    check_len("activityArn", &input.activity_arn, 1, 256)?;
    let parsed = api
        .arns
        .parse(&input.activity_arn, &[Kind::Activity], 1, 1)?;
    if parsed.local {
        api.activities.delete(parsed.parts[0])?;
    }
    Ok(empty())
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
    let all = api.activities.list();
    let page: Vec<&Arc<ActivityRecord>> = all
        .iter()
        .filter(|a| {
            after
                .as_ref()
                .is_none_or(|after| a.name.as_str() > after.as_str())
        })
        .take(size + 1)
        .collect();
    let items: Vec<Json> = page
        .iter()
        .take(size)
        .map(|a| {
            json!({
                "activityArn": api.arns.activity(&a.name),
                "name": a.name,
                "creationDate": a.created_ms as f64 / 1000.0,
            })
        })
        .collect();
    let mut out = json!({ "activities": items });
    if page.len() > size {
        out["nextToken"] = json!(encode_token(&page[size - 1].name));
    }
    Ok(reply(&out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskInput {
    activity_arn: String,
    worker_name: Option<String>,
}

/// How long GetActivityTask waits for a task (AWS: 60 seconds).
const LONG_POLL: std::time::Duration = std::time::Duration::from_secs(60);

pub(super) async fn get_task(api: &Api, body: &[u8]) -> ApiResult<Response> {
    let input: TaskInput = parse(body)?;
    check_opt_len("workerName", input.worker_name.as_deref(), 1, 80)?;
    let record = api.resolve_activity(&input.activity_arn)?;
    Ok(match api.board.take(&record.name, LONG_POLL).await {
        Some(task) => reply(&json!({ "taskToken": task.token.as_str(), "input": task.input })),
        // No task within the wait: an empty answer, as AWS gives.
        None => empty(),
    })
}
