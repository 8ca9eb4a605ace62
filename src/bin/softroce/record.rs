//! One decoded packet as an ordered list of named fields, and its two
//! renderings: the one-line text form and the one-line JSON object.
//! Owns the output formats (documented in docs/DECODE.md); must not decode.

use std::fmt::Write as _;

/// A field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A number shown in decimal.
    Num(u64),
    /// A number shown in text as `0x` + this many hex digits (JSON: a number).
    Hex(u64, usize),
    /// A boolean (text: 0/1).
    Bool(bool),
    /// A string.
    Str(String),
}

/// Fields that the text form leaves out while they hold their usual value.
const QUIET: &[(&str, Value)] = &[
    ("se", Value::Bool(false)),
    ("m", Value::Bool(false)),
    ("pad", Value::Num(0)),
    ("tver", Value::Num(0)),
    ("pkey", Value::Hex(0xFFFF, 4)),
    ("fecn", Value::Bool(false)),
    ("becn", Value::Bool(false)),
];

/// Fields the text form prints as the line's head rather than as `key=value`.
const HEAD: &[&str] = &["frame", "src", "sport", "dst", "dport", "op"];

/// The decoded fields of one packet, in output order.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub fields: Vec<(&'static str, Value)>,
}

impl Record {
    pub fn push(&mut self, key: &'static str, value: Value) {
        self.fields.push((key, value));
    }
    pub fn num(&mut self, key: &'static str, v: impl Into<u64>) {
        self.push(key, Value::Num(v.into()));
    }
    pub fn hex(&mut self, key: &'static str, v: impl Into<u64>, digits: usize) {
        self.push(key, Value::Hex(v.into(), digits));
    }
    pub fn flag(&mut self, key: &'static str, v: bool) {
        self.push(key, Value::Bool(v));
    }
    pub fn text(&mut self, key: &'static str, v: impl ToString) {
        self.push(key, Value::Str(v.to_string()));
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    fn head(&self, key: &str) -> String {
        match self.get(key) {
            Some(v) => text_value(v),
            None => "?".into(),
        }
    }

    /// `#N src:sport -> dst:dport OP key=value ...`
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "#{} {}:{} -> {}:{}",
            self.head("frame"),
            self.head("src"),
            self.head("sport"),
            self.head("dst"),
            self.head("dport")
        );
        if let Some(op) = self.get("op") {
            let _ = write!(s, " {}", text_value(op));
        }
        for (k, v) in &self.fields {
            if HEAD.contains(k) || QUIET.iter().any(|(qk, qv)| qk == k && qv == v) {
                continue;
            }
            let _ = write!(s, " {k}={}", text_value(v));
        }
        s
    }

    /// `{"frame":N,...}` with the fields in order.
    pub fn to_json(&self) -> String {
        let mut s = String::from("{");
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            json_string(&mut s, k);
            s.push(':');
            match v {
                Value::Num(n) | Value::Hex(n, _) => {
                    let _ = write!(s, "{n}");
                }
                Value::Bool(b) => {
                    let _ = write!(s, "{b}");
                }
                Value::Str(t) => json_string(&mut s, t),
            }
        }
        s.push('}');
        s
    }
}

fn text_value(v: &Value) -> String {
    match v {
        Value::Num(n) => n.to_string(),
        Value::Hex(n, w) => format!("0x{n:0w$x}"),
        Value::Bool(b) => u8::from(*b).to_string(),
        Value::Str(t) if t.contains(' ') => format!("\"{t}\""),
        Value::Str(t) => t.clone(),
    }
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_text_and_json() {
        let mut r = Record::default();
        r.num("frame", 7u8);
        r.text("src", "10.0.0.1");
        r.num("sport", 1u16);
        r.text("dst", "10.0.0.2");
        r.num("dport", 4791u16);
        r.text("op", "RC_ACKNOWLEDGE");
        r.hex("dqpn", 0x11u32, 6);
        r.flag("se", false);
        r.flag("ack", true);
        r.text("aeth", "ACK credits=31");
        r.text("error", "a \"q\"\n");
        assert_eq!(
            r.to_text(),
            "#7 10.0.0.1:1 -> 10.0.0.2:4791 RC_ACKNOWLEDGE dqpn=0x000011 ack=1 aeth=\"ACK credits=31\" error=\"a \"q\"\n\""
        );
        assert_eq!(
            r.to_json(),
            r#"{"frame":7,"src":"10.0.0.1","sport":1,"dst":"10.0.0.2","dport":4791,"op":"RC_ACKNOWLEDGE","dqpn":17,"se":false,"ack":true,"aeth":"ACK credits=31","error":"a \"q\"\n"}"#
        );
    }
}
