//! ARNs: `arn:aws:states:<region>:<account>:<kind>:<name>[:<qualifier>]`,
//! built for this server's region and account and parsed back. A
//! malformed ARN is `InvalidArn`; a well-formed one of another region or
//! account names nothing here.

use super::errors::{ApiError, ApiResult};

/// The kind of resource an ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `stateMachine:<name>` or, with a version, `stateMachine:<name>:<n>`.
    StateMachine,
    /// `execution:<state machine>:<execution name>`.
    Execution,
    /// `express:<state machine>:<execution name>:<id>`, the ARN of a
    /// synchronous Express execution.
    Express,
    /// `activity:<name>`.
    Activity,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::StateMachine => "stateMachine",
            Kind::Execution => "execution",
            Kind::Express => "express",
            Kind::Activity => "activity",
        }
    }
}

/// A parsed ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    /// What it names.
    pub kind: Kind,
    /// Whether its region and account are this server's.
    pub local: bool,
    /// The parts after the kind (`[name]`, `[name, version]`,
    /// `[machine, execution]`, ...).
    pub parts: Vec<&'a str>,
}

/// Builds and parses the ARNs of one region and account.
#[derive(Debug, Clone)]
pub struct Arns {
    prefix: String,
}

impl Arns {
    /// ARNs in `region` and `account`.
    pub fn new(region: &str, account: &str) -> Arns {
        Arns {
            prefix: format!("arn:aws:states:{region}:{account}:"),
        }
    }

    /// The ARN of `kind` with `parts` joined by `:`.
    pub fn make(&self, kind: Kind, parts: &[&str]) -> String {
        let mut arn = format!("{}{}", self.prefix, kind.word());
        for part in parts {
            arn.push(':');
            arn.push_str(part);
        }
        arn
    }

    /// A state machine's ARN.
    pub fn state_machine(&self, name: &str) -> String {
        self.make(Kind::StateMachine, &[name])
    }

    /// A state machine version's ARN.
    pub fn version(&self, name: &str, version: u32) -> String {
        self.make(Kind::StateMachine, &[name, &version.to_string()])
    }

    /// An execution's ARN (as `$$.Execution.Id` gives it).
    pub fn execution(&self, machine: &str, name: &str) -> String {
        self.make(Kind::Execution, &[machine, name])
    }

    /// An activity's ARN.
    pub fn activity(&self, name: &str) -> String {
        self.make(Kind::Activity, &[name])
    }

    /// Parses `text`, which must be an ARN of one of `kinds` with
    /// `min..=max` parts after the kind, else `InvalidArn`.
    pub fn parse<'a>(
        &self,
        text: &'a str,
        kinds: &[Kind],
        min: usize,
        max: usize,
    ) -> ApiResult<Arn<'a>> {
        let invalid = || ApiError::invalid_arn(text);
        let fields: Vec<&str> = text.splitn(6, ':').collect();
        if fields.len() != 6 || fields[0] != "arn" || fields[2] != "states" {
            return Err(invalid());
        }
        let rest = fields[5];
        let (word, tail) = rest.split_once(':').ok_or_else(invalid)?;
        let kind = kinds
            .iter()
            .copied()
            .find(|k| k.word() == word)
            .ok_or_else(invalid)?;
        let parts: Vec<&str> = tail.split(':').collect();
        if parts.len() < min || parts.len() > max || parts.iter().any(|p| p.is_empty()) {
            return Err(invalid());
        }
        let local = text.starts_with(&self.prefix);
        Ok(Arn { kind, local, parts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_round_trip() {
        let arns = Arns::new("us-east-1", "123456789012");
        let arn = arns.version("orders", 3);
        assert_eq!(
            arn,
            "arn:aws:states:us-east-1:123456789012:stateMachine:orders:3"
        );
        let parsed = arns.parse(&arn, &[Kind::StateMachine], 1, 2).unwrap();
        assert_eq!(parsed.parts, ["orders", "3"]);
        assert!(parsed.local);
        let other = arns
            .parse(
                "arn:aws:states:eu-west-1:1:stateMachine:x",
                &[Kind::StateMachine],
                1,
                2,
            )
            .unwrap();
        assert!(!other.local);
        for bad in [
            "",
            "orders",
            "arn:aws:states:us-east-1:123456789012:activity:a",
            "arn:aws:states:us-east-1:123456789012:stateMachine:",
            "arn:aws:states:us-east-1:123456789012:stateMachine:a:1:2",
        ] {
            assert_eq!(
                arns.parse(bad, &[Kind::StateMachine], 1, 2)
                    .unwrap_err()
                    .code,
                "InvalidArn",
                "{bad}"
            );
        }
    }
}
