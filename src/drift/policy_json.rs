//! JSON helpers for comparing documents semantically: resolving the few CloudFormation intrinsic
//! functions the template uses (so the expected bucket policy reads as S3 returns it), and
//! normalising IAM policy documents so that equivalent spellings compare equal.

use serde_json::{Map, Value};

/// Values of the template's logical IDs, for resolving intrinsics.
#[derive(Debug, Clone)]
pub struct Resolver<'a> {
    /// Logical ID of the bucket.
    pub bucket_logical_id: &'a str,
    pub bucket_name: &'a str,
    pub bucket_arn: &'a str,
}

impl Resolver<'_> {
    /// `value` with every `Ref`, `Fn::GetAtt` and `Fn::Sub` of the bucket replaced by its value.
    /// Intrinsics the tool does not write are left as they are (and so will not compare equal).
    pub fn resolve(&self, value: &Value) -> Value {
        match value {
            Value::Array(items) => Value::Array(items.iter().map(|v| self.resolve(v)).collect()),
            Value::Object(map) => {
                if map.len() == 1
                    && let Some(text) = self.intrinsic(map)
                {
                    return Value::String(text);
                }
                Value::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), self.resolve(v)))
                        .collect(),
                )
            }
            other => other.clone(),
        }
    }

    fn intrinsic(&self, map: &Map<String, Value>) -> Option<String> {
        let (function, argument) = map.iter().next()?;
        match (function.as_str(), argument) {
            ("Ref", Value::String(target)) if target == self.bucket_logical_id => {
                Some(self.bucket_name.to_owned())
            }
            ("Fn::GetAtt", Value::Array(parts)) => match parts.as_slice() {
                [Value::String(target), Value::String(attribute)]
                    if target == self.bucket_logical_id && attribute == "Arn" =>
                {
                    Some(self.bucket_arn.to_owned())
                }
                _ => None,
            },
            ("Fn::Sub", Value::String(template)) => {
                let arn = format!("${{{}.Arn}}", self.bucket_logical_id);
                let name = format!("${{{}}}", self.bucket_logical_id);
                let text = template
                    .replace(&arn, self.bucket_arn)
                    .replace(&name, self.bucket_name);
                // Anything still `${…}` is a variable we do not know: leave the intrinsic alone.
                (!text.contains("${")).then_some(text)
            }
            _ => None,
        }
    }
}

/// Keys of a policy statement whose value may be one string or a list of strings.
const LIST_KEYS: [&str; 4] = ["Action", "NotAction", "Resource", "NotResource"];

/// An IAM policy document in a canonical form: `Statement` always a list, sorted; string-or-list
/// values always sorted lists; principal and condition values always sorted lists of strings
/// (IAM compares condition values as strings, so `false` and `"false"` are the same).
pub fn normalise_policy(document: &Value) -> Value {
    let Value::Object(map) = document else {
        return document.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let value = if key == "Statement" {
            let mut statements: Vec<Value> =
                as_list(value).iter().map(normalise_statement).collect();
            sort_values(&mut statements);
            Value::Array(statements)
        } else {
            value.clone()
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

fn normalise_statement(statement: &Value) -> Value {
    let Value::Object(map) = statement else {
        return statement.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        let value = match key.as_str() {
            k if LIST_KEYS.contains(&k) => string_list(value),
            "Principal" | "NotPrincipal" => match value {
                Value::Object(principals) => Value::Object(
                    principals
                        .iter()
                        .map(|(kind, ids)| (kind.clone(), string_list(ids)))
                        .collect(),
                ),
                // `"*"` and `{"AWS": "*"}` differ in IAM's eyes only in spelling for anonymous
                // access; keep `"*"` as AWS returns it.
                other => other.clone(),
            },
            "Condition" => match value {
                Value::Object(operators) => Value::Object(
                    operators
                        .iter()
                        .map(|(operator, keys)| {
                            let keys = match keys {
                                Value::Object(keys) => Value::Object(
                                    keys.iter()
                                        .map(|(k, v)| (k.clone(), string_list(v)))
                                        .collect(),
                                ),
                                other => other.clone(),
                            };
                            (operator.clone(), keys)
                        })
                        .collect(),
                ),
                other => other.clone(),
            },
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// A scalar or list as a sorted, deduplicated list of strings.
fn string_list(value: &Value) -> Value {
    let mut items: Vec<Value> = as_list(value)
        .into_iter()
        .map(|item| match item {
            Value::Bool(b) => Value::String(b.to_string()),
            Value::Number(n) => Value::String(n.to_string()),
            other => other,
        })
        .collect();
    sort_values(&mut items);
    items.dedup();
    Value::Array(items)
}

fn sort_values(values: &mut [Value]) {
    values.sort_by_cached_key(Value::to_string);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn intrinsics_of_the_bucket_are_resolved() {
        let resolver = Resolver {
            bucket_logical_id: "Bucket",
            bucket_name: "b1",
            bucket_arn: "arn:aws:s3:::b1",
        };
        let template = json!({
            "A": {"Ref": "Bucket"},
            "B": [{"Fn::GetAtt": ["Bucket", "Arn"]}, {"Fn::Sub": "${Bucket.Arn}/*"}],
            "C": {"Ref": "Other"},
            "D": {"Fn::Sub": "${AWS::Region}"},
        });
        assert_eq!(
            resolver.resolve(&template),
            json!({
                "A": "b1",
                "B": ["arn:aws:s3:::b1", "arn:aws:s3:::b1/*"],
                "C": {"Ref": "Other"},
                "D": {"Fn::Sub": "${AWS::Region}"},
            })
        );
    }

    #[test]
    fn equivalent_policies_normalise_equal() {
        let ours = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::b1", "arn:aws:s3:::b1/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }]
        });
        let as_returned = json!({
            "Statement": {
                "Condition": {"Bool": {"aws:SecureTransport": false}},
                "Resource": ["arn:aws:s3:::b1/*", "arn:aws:s3:::b1"],
                "Action": ["s3:*"],
                "Principal": "*",
                "Effect": "Deny",
                "Sid": "DenyInsecureTransport"
            },
            "Version": "2012-10-17"
        });
        assert_eq!(normalise_policy(&ours), normalise_policy(&as_returned));
    }

    #[test]
    fn different_policies_stay_different() {
        let ours = json!({"Statement": [{"Effect": "Deny", "Action": "s3:*"}]});
        let other = json!({"Statement": [{"Effect": "Allow", "Action": "s3:*"}]});
        assert_ne!(normalise_policy(&ours), normalise_policy(&other));
    }
}
