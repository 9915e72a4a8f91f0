//! Import of an APIM backend pool as people write it: the ARM/REST `properties` of a `Pool`
//! backend (`Microsoft.ApiManagement/service/backends`, API 2023-09-01-preview+), bare or as a
//! Terraform `azapi_resource` body (`{"properties": …}`, with or without a wrapping `body` key,
//! or `body` as a JSON string), numbers written as numbers or strings, ISO-8601 durations.
//! The breaker rule may sit on the pool (seed-examples.md §2) or on the member backends
//! (imported with [`import_member_rule`]). Service ids are ARM ids; a member's name is the last
//! path segment. Unknown properties are ignored (ARM carries many); known ones are checked,
//! and every refusal names the file, the field path and the value.

use std::time::Duration;

use serde_json::Value;

use super::BalanceError;
use super::breaker::BreakerConfig;
use super::breaker::apim::{ApimRule, RetryAfterMode, WindowKind};
use super::status_set::StatusSet;
use super::types::BackendSpec;

/// One pool member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolMember {
    /// Backend name (last segment of the ARM id), matched to fleet resources.
    pub name: String,
    /// The ARM id as written.
    pub id: String,
    /// `priority` (missing or null → 1 [inferred]).
    pub priority: u32,
    /// `weight` (missing or null → 1, "distributed evenly by default").
    pub weight: u32,
}

/// A pool as imported.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedPool {
    /// File name the pool came from.
    pub source: String,
    /// Members in pool order.
    pub members: Vec<PoolMember>,
    /// The pool's own breaker rule, if any.
    pub breaker: Option<ApimRule>,
    /// Rules of the member backends, aligned with `members` (see
    /// [`ImportedPool::with_member_rules`]); a member's rule takes precedence over the pool's
    /// [inferred].
    pub member_rules: Vec<Option<ApimRule>>,
    /// The rule's `name` as written (e.g. `"breakThrottling "`, trailing space kept).
    pub rule_name: Option<String>,
    /// `description`, if any.
    pub description: Option<String>,
}

/// A JSON location for error messages.
struct Here<'a> {
    source: &'a str,
    path: String,
}

impl<'a> Here<'a> {
    fn root(source: &'a str) -> Self {
        Self {
            source,
            path: String::new(),
        }
    }

    fn at(&self, key: &str) -> Here<'a> {
        let path = if self.path.is_empty() {
            key.to_string()
        } else if key.starts_with('[') {
            format!("{}{key}", self.path)
        } else {
            format!("{}.{key}", self.path)
        };
        Here {
            source: self.source,
            path,
        }
    }

    fn error(&self, value: &Value, message: &str) -> BalanceError {
        BalanceError::field(
            format!("{}: {}", self.source, self.path),
            format!("{value}: {message}"),
        )
    }

    fn missing(&self) -> BalanceError {
        BalanceError::field(format!("{}: {}", self.source, self.path), "missing")
    }
}

fn unsigned(value: &Value, here: &Here<'_>) -> Result<u64, BalanceError> {
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse::<u64>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| here.error(value, "expected a non-negative integer (number or string)"))
}

fn optional_unsigned(
    object: &Value,
    key: &str,
    here: &Here<'_>,
    max: u64,
) -> Result<Option<u64>, BalanceError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let here = here.at(key);
            let number = unsigned(value, &here)?;
            if number > max {
                return Err(here.error(value, &format!("must be at most {max}")));
            }
            Ok(Some(number))
        }
    }
}

fn boolean(value: &Value, here: &Here<'_>) -> Result<bool, BalanceError> {
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(here.error(value, "expected true or false")),
    }
}

fn duration(value: &Value, here: &Here<'_>) -> Result<Duration, BalanceError> {
    let Value::String(text) = value else {
        return Err(here.error(value, "expected an ISO-8601 duration such as \"PT1M\""));
    };
    aoai_mock::duration::parse(text).map_err(|err| here.error(value, &err.to_string()))
}

fn object<'v>(
    value: &'v Value,
    here: &Here<'_>,
) -> Result<&'v serde_json::Map<String, Value>, BalanceError> {
    value
        .as_object()
        .ok_or_else(|| here.error(value, "expected an object"))
}

/// Parses the document and finds `properties` (bare, under `body`, or `body` as a string).
fn properties(text: &str, source: &str) -> Result<Value, BalanceError> {
    let document: Value = serde_json::from_str(text).map_err(|err| BalanceError::Json {
        source_name: source.to_string(),
        message: err.to_string(),
    })?;
    let root = Here::root(source);
    object(&document, &root)?;
    let body = match document.get("body") {
        Some(Value::String(inner)) => {
            serde_json::from_str(inner).map_err(|err| BalanceError::Json {
                source_name: format!("{source}: body"),
                message: err.to_string(),
            })?
        }
        Some(body) => body.clone(),
        None => document,
    };
    match body.get("properties") {
        Some(properties) => {
            object(properties, &Here::root(source).at("properties"))?;
            Ok(properties.clone())
        }
        None => Err(Here::root(source).at("properties").missing()),
    }
}

/// Parses one `circuitBreaker` object (`rules` must hold at most one rule).
fn circuit_breaker(
    value: &Value,
    here: &Here<'_>,
) -> Result<Option<(ApimRule, String)>, BalanceError> {
    object(value, here)?;
    let rules_here = here.at("rules");
    let rules = match value.get("rules") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(rules)) => rules,
        Some(other) => return Err(rules_here.error(other, "expected a list of rules")),
    };
    match rules.len() {
        0 => Ok(None),
        1 => rule(&rules[0], &rules_here.at("[0]")).map(Some),
        _ => Err(rules_here.error(
            &Value::from(rules.len()),
            "APIM allows one circuit breaker rule per backend",
        )),
    }
}

fn rule(value: &Value, here: &Here<'_>) -> Result<(ApimRule, String), BalanceError> {
    object(value, here)?;
    let name = match value.get("name") {
        Some(Value::String(name)) => name.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => return Err(here.at("name").error(other, "expected a string")),
    };
    let condition_here = here.at("failureCondition");
    let condition = value
        .get("failureCondition")
        .ok_or_else(|| condition_here.missing())?;
    object(condition, &condition_here)?;
    let count = optional_unsigned(condition, "count", &condition_here, u64::from(u32::MAX))?;
    let percentage = optional_unsigned(condition, "percentage", &condition_here, 100)?;
    if count.is_none() && percentage.is_none() {
        return Err(condition_here
            .at("count")
            .error(&Value::Null, "a rule needs `count` or `percentage`"));
    }
    if count == Some(0) {
        return Err(condition_here
            .at("count")
            .error(&Value::from(0), "must be at least 1"));
    }
    let interval_here = condition_here.at("interval");
    let interval = duration(
        condition
            .get("interval")
            .ok_or_else(|| interval_here.missing())?,
        &interval_here,
    )?;
    if interval.is_zero() {
        return Err(interval_here.error(&condition["interval"], "must be positive"));
    }
    let mut statuses = StatusSet::EMPTY;
    let ranges_here = condition_here.at("statusCodeRanges");
    if let Some(ranges) = condition.get("statusCodeRanges").filter(|v| !v.is_null()) {
        let Value::Array(ranges) = ranges else {
            return Err(ranges_here.error(ranges, "expected a list of {min, max}"));
        };
        for (index, range) in ranges.iter().enumerate() {
            let range_here = ranges_here.at(&format!("[{index}]"));
            object(range, &range_here)?;
            let min = optional_unsigned(range, "min", &range_here, 599)?
                .ok_or_else(|| range_here.at("min").missing())?;
            let max = optional_unsigned(range, "max", &range_here, 599)?
                .ok_or_else(|| range_here.at("max").missing())?;
            if min < 100 || min > max {
                return Err(range_here.error(range, "need 100 ≤ min ≤ max ≤ 599"));
            }
            statuses.add_range(min as u16, max as u16);
        }
    }
    let mut error_reasons = Vec::new();
    if let Some(reasons) = condition.get("errorReasons").filter(|v| !v.is_null()) {
        let reasons_here = condition_here.at("errorReasons");
        let Value::Array(reasons) = reasons else {
            return Err(reasons_here.error(reasons, "expected a list of strings"));
        };
        for (index, reason) in reasons.iter().enumerate() {
            match reason {
                Value::String(text) => error_reasons.push(text.clone()),
                other => {
                    return Err(reasons_here
                        .at(&format!("[{index}]"))
                        .error(other, "expected a string"));
                }
            }
        }
    }
    let failure_statuses = statuses.union(ApimRule::transport_errors_for(&error_reasons));
    if failure_statuses.is_empty() {
        return Err(ranges_here.error(
            &Value::Null,
            "no statusCodeRanges and no errorReasons: nothing would trip",
        ));
    }
    let trip_here = here.at("tripDuration");
    let trip_duration = duration(
        value
            .get("tripDuration")
            .ok_or_else(|| trip_here.missing())?,
        &trip_here,
    )?;
    let accept_retry_after = match value.get("acceptRetryAfter") {
        None | Some(Value::Null) => false,
        Some(flag) => boolean(flag, &here.at("acceptRetryAfter"))?,
    };
    let rule = ApimRule {
        count: count.map(|c| c as u32),
        percentage: percentage.map(|p| p as u32),
        interval,
        failure_statuses,
        error_reasons,
        trip_duration,
        accept_retry_after,
        window: WindowKind::Sliding,
        retry_after: RetryAfterMode::Replace,
        min_volume: 1,
    };
    Ok((rule, name))
}

/// Imports a `Pool` backend from `text` (`source` names the file in errors).
pub fn import_pool(text: &str, source: &str) -> Result<ImportedPool, BalanceError> {
    let props = properties(text, source)?;
    let here = Here::root(source).at("properties");
    if let Some(kind) = props.get("type").filter(|v| !v.is_null())
        && kind
            .as_str()
            .is_none_or(|k| !k.eq_ignore_ascii_case("pool"))
    {
        return Err(here
            .at("type")
            .error(kind, "expected \"Pool\" (a Single backend is not a pool)"));
    }
    for key in ["url", "protocol"] {
        if let Some(value) = props.get(key).filter(|v| !v.is_null()) {
            return Err(here.at(key).error(
                value,
                "not supported on a backend pool (\"Url is not supported for backend pool.\")",
            ));
        }
    }
    let pool_here = here.at("pool");
    let pool = props.get("pool").ok_or_else(|| pool_here.missing())?;
    object(pool, &pool_here)?;
    let services_here = pool_here.at("services");
    let services = match pool.get("services") {
        Some(Value::Array(services)) if !services.is_empty() => services,
        Some(other) => {
            return Err(services_here.error(other, "expected a non-empty list of services"));
        }
        None => return Err(services_here.missing()),
    };
    if services.len() > 30 {
        return Err(services_here.error(
            &Value::from(services.len()),
            "APIM allows at most 30 backends in a pool",
        ));
    }
    let mut members: Vec<PoolMember> = Vec::with_capacity(services.len());
    for (index, service) in services.iter().enumerate() {
        let service_here = services_here.at(&format!("[{index}]"));
        object(service, &service_here)?;
        let id_here = service_here.at("id");
        let id = match service.get("id") {
            Some(Value::String(id)) => id.clone(),
            Some(other) => return Err(id_here.error(other, "expected an ARM id string")),
            None => return Err(id_here.missing()),
        };
        let name = id.rsplit('/').next().unwrap_or("").trim().to_string();
        if name.is_empty() {
            return Err(id_here.error(
                &Value::String(id),
                "no backend name in the id (expected …/backends/<name>)",
            ));
        }
        if members.iter().any(|member| member.name == name) {
            return Err(id_here.error(
                &Value::String(id),
                "the same backend appears twice in the pool",
            ));
        }
        let priority =
            optional_unsigned(service, "priority", &service_here, 100)?.unwrap_or(1) as u32;
        let weight = optional_unsigned(service, "weight", &service_here, 100)?.unwrap_or(1) as u32;
        members.push(PoolMember {
            name,
            id,
            priority,
            weight,
        });
    }
    let (breaker, rule_name) = match props.get("circuitBreaker").filter(|v| !v.is_null()) {
        Some(value) => match circuit_breaker(value, &here.at("circuitBreaker"))? {
            Some((rule, name)) => (Some(rule), Some(name)),
            None => (None, None),
        },
        None => (None, None),
    };
    let description = props
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(ImportedPool {
        source: source.to_string(),
        member_rules: vec![None; members.len()],
        members,
        breaker,
        rule_name,
        description,
    })
}

/// Imports the breaker rule of a member (`Single`) backend from `text`.
pub fn import_member_rule(text: &str, source: &str) -> Result<Option<ApimRule>, BalanceError> {
    let props = properties(text, source)?;
    let here = Here::root(source).at("properties");
    match props.get("circuitBreaker").filter(|v| !v.is_null()) {
        Some(value) => {
            Ok(circuit_breaker(value, &here.at("circuitBreaker"))?.map(|(rule, _)| rule))
        }
        None => Ok(None),
    }
}

impl ImportedPool {
    /// Adds the rules of the member backends, by member name.
    pub fn with_member_rules(
        mut self,
        rules: &[(String, Option<ApimRule>)],
    ) -> Result<Self, BalanceError> {
        for (name, rule) in rules {
            let Some(index) = self.members.iter().position(|member| &member.name == name) else {
                return Err(BalanceError::field(
                    format!("{}: member rules", self.source),
                    format!("{name:?} is not a member of the pool"),
                ));
            };
            self.member_rules[index] = rule.clone();
        }
        Ok(self)
    }

    /// The rule each member is governed by (its own, else the pool's), in pool order.
    pub fn effective_rules(&self) -> Vec<Option<ApimRule>> {
        self.member_rules
            .iter()
            .map(|rule| rule.clone().or_else(|| self.breaker.clone()))
            .collect()
    }

    /// The breaker a strategy over this pool uses: none, one rule for all, or one per member
    /// (backend ids in pool order, as [`ImportedPool::backend_specs`] returns them).
    pub fn breaker_config(&self) -> BreakerConfig {
        let rules = self.effective_rules();
        match rules.first() {
            Some(first) if rules.iter().all(|rule| rule == first) => match first {
                Some(rule) => BreakerConfig::Apim(rule.clone()),
                None => BreakerConfig::None,
            },
            _ => BreakerConfig::ApimPerBackend { rules },
        }
    }

    /// The pool's backends, in pool order, taken from the fleet by name, with the pool's
    /// priority and weight (limits stay those of the fleet).
    pub fn backend_specs(&self, fleet: &[BackendSpec]) -> Result<Vec<BackendSpec>, BalanceError> {
        self.members
            .iter()
            .enumerate()
            .map(|(index, member)| {
                let spec = fleet
                    .iter()
                    .find(|spec| spec.name == member.name)
                    .ok_or_else(|| {
                        let known: Vec<&str> =
                            fleet.iter().map(|spec| spec.name.as_str()).collect();
                        BalanceError::field(
                            format!("{}: properties.pool.services[{index}].id", self.source),
                            format!(
                                "backend {:?} is not in the fleet (known: {known:?})",
                                member.name
                            ),
                        )
                    })?;
                Ok(BackendSpec {
                    priority: member.priority,
                    weight: member.weight,
                    ..spec.clone()
                })
            })
            .collect()
    }
}
