//! Checks `inf/softroce.inx`, the INF template stampinf turns into
//! softroce.inf: the sections, directives, keywords and values a root-enumerated
//! NDK (RoCEv2) virtual miniport needs (see `docs/WINDOWS.md` and the facts in
//! NDKPI-FACTS section 7.5), and `inf/softroce_lower.inx`, the NetTrans
//! component of the lower-edge protocol (class NetTrans, `Ndi\Service` =
//! the service the miniport INF installs, `noupper`, Ethernet below). A tiny INF reader lives here; the checks fail when
//! any required line is removed or changed, and a mutation test proves it.
//! Owns: these checks. Must not touch the INX itself.

use std::collections::BTreeMap;

const INX: &str = include_str!("../inf/softroce.inx");
const LOWER_INX: &str = include_str!("../inf/softroce_lower.inx");

/// One INF section: its lines, as `key = value` pairs (key `""` for lines
/// without `=`, such as AddReg entries), in order. Keys keep their case.
#[derive(Debug, Default)]
struct Section {
    lines: Vec<(String, String)>,
}

impl Section {
    fn get(&self, key: &str) -> Option<&str> {
        self.lines
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// Sections by lower-cased name.
#[derive(Debug)]
struct Inf {
    sections: BTreeMap<String, Section>,
}

/// Drops a `;` comment that is not inside double quotes.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Splits on commas outside quotes, trims fields and removes their quotes.
fn fields(value: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().unwrap().push(c),
        }
    }
    out.iter().map(|f| f.trim().to_string()).collect()
}

fn parse(text: &str) -> Result<Inf, String> {
    let mut sections = BTreeMap::new();
    let mut current: Option<String> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[') {
            let name = name
                .strip_suffix(']')
                .ok_or_else(|| format!("line {}: bad section header", n + 1))?;
            let key = name.trim().to_ascii_lowercase();
            if sections.contains_key(&key) {
                return Err(format!("line {}: section [{name}] twice", n + 1));
            }
            sections.insert(key.clone(), Section::default());
            current = Some(key);
            continue;
        }
        let section = current
            .as_ref()
            .ok_or_else(|| format!("line {}: text before any section", n + 1))?;
        let (k, v) = match line.split_once('=') {
            Some((k, v)) if !k.contains(',') => (k.trim().to_string(), v.trim().to_string()),
            _ => (String::new(), line.to_string()),
        };
        sections.get_mut(section).unwrap().lines.push((k, v));
    }
    Ok(Inf { sections })
}

/// An AddReg entry: root, subkey, value name, flags, data.
#[derive(Debug, Clone, PartialEq)]
struct Reg {
    root: String,
    subkey: String,
    name: String,
    data: String,
}

impl Inf {
    fn section(&self, name: &str) -> Result<&Section, String> {
        self.sections
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| format!("missing section [{name}]"))
    }

    /// The AddReg entries of every section the `AddReg` directive of `section` names.
    fn add_reg(&self, section: &str) -> Result<Vec<Reg>, String> {
        let names = self
            .section(section)?
            .get("AddReg")
            .ok_or_else(|| format!("[{section}] has no AddReg"))?;
        let mut out = Vec::new();
        for name in fields(names) {
            for (_, line) in &self.section(&name)?.lines {
                let f = fields(line);
                if f.len() < 4 {
                    return Err(format!("[{name}]: short AddReg line {line}"));
                }
                out.push(Reg {
                    root: f[0].clone(),
                    subkey: f[1].clone(),
                    name: f[2].clone(),
                    data: f.get(4).cloned().unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }
}

fn expect(cond: bool, what: impl Into<String>) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what.into())
    }
}

fn expect_eq(inf_section: &Section, section: &str, key: &str, want: &str) -> Result<(), String> {
    let got = inf_section.get(key);
    expect(
        got.is_some_and(|g| g.eq_ignore_ascii_case(want)),
        format!("[{section}] {key} = {got:?}, want {want:?}"),
    )
}

/// The value of `HKR, <subkey>, <name>` in `regs`.
fn reg<'a>(regs: &'a [Reg], subkey: &str, name: &str) -> Option<&'a str> {
    regs.iter()
        .find(|r| {
            r.root == "HKR"
                && r.subkey.eq_ignore_ascii_case(subkey)
                && r.name.eq_ignore_ascii_case(name)
        })
        .map(|r| r.data.as_str())
}

/// The enum values (sorted numerically) offered for a keyword.
fn enum_values(regs: &[Reg], keyword: &str) -> Vec<u32> {
    let sub = format!("Ndi\\params\\{keyword}\\enum");
    let mut v: Vec<u32> = regs
        .iter()
        .filter(|r| r.subkey.eq_ignore_ascii_case(&sub))
        .filter_map(|r| r.name.parse().ok())
        .collect();
    v.sort_unstable();
    v
}

fn check_param(
    regs: &[Reg],
    keyword: &str,
    kind: &str,
    default: &str,
    values: &[u32],
) -> Result<(), String> {
    let key = format!("Ndi\\params\\{keyword}");
    expect(
        reg(regs, &key, "ParamDesc").is_some(),
        format!("{keyword}: no ParamDesc"),
    )?;
    expect(
        reg(regs, &key, "Type") == Some(kind),
        format!("{keyword}: Type is not {kind}"),
    )?;
    expect(
        reg(regs, &key, "Default") == Some(default),
        format!("{keyword}: Default is not {default:?}"),
    )?;
    if kind == "enum" {
        let got = enum_values(regs, keyword);
        expect(
            got == values,
            format!("{keyword}: enum values {got:?}, want {values:?}"),
        )?;
        expect(
            reg(regs, "", keyword) == Some(default),
            format!("{keyword}: initial value is not the default {default:?}"),
        )?;
    }
    Ok(())
}

/// Every check the template must pass.
fn check(text: &str) -> Result<(), String> {
    let inf = parse(text)?;

    let version = inf.section("Version")?;
    expect_eq(version, "Version", "Signature", "\"$WINDOWS NT$\"")?;
    expect_eq(version, "Version", "Class", "Net")?;
    expect_eq(
        version,
        "Version",
        "ClassGuid",
        "{4d36e972-e325-11ce-bfc1-08002be10318}",
    )?;
    expect_eq(version, "Version", "CatalogFile", "softroce.cat")?;
    expect_eq(version, "Version", "PnpLockdown", "1")?;
    expect(version.get("Provider").is_some(), "[Version] no Provider")?;
    expect(
        version.get("DriverVer").is_some(),
        "[Version] no DriverVer (stampinf fills it)",
    )?;

    // [Manufacturer] -> models section decorated with $ARCH$ -> root\softroce.
    let manufacturer = inf.section("Manufacturer")?;
    let decl = fields(
        manufacturer
            .lines
            .first()
            .map(|(_, v)| v.as_str())
            .ok_or("[Manufacturer] is empty")?,
    );
    let models_name = decl.first().ok_or("[Manufacturer] names no models")?;
    let decoration = decl
        .get(1)
        .ok_or("[Manufacturer] has no target decoration")?;
    expect(
        decoration.starts_with("NT$ARCH$"),
        format!("[Manufacturer] decoration {decoration} lacks NT$ARCH$ for stampinf"),
    )?;
    let models = inf.section(&format!("{models_name}.{decoration}"))?;
    let device = models
        .lines
        .iter()
        .map(|(_, v)| fields(v))
        .find(|f| {
            f.get(1)
                .is_some_and(|h| h.eq_ignore_ascii_case("root\\softroce"))
        })
        .ok_or("no model with hardware id root\\softroce")?;
    let install = device[0].clone();

    // The DDInstall section.
    let ddi = inf.section(&install)?;
    expect_eq(ddi, &install, "Characteristics", "0x1")?;
    expect_eq(ddi, &install, "*IfType", "6")?;
    expect_eq(ddi, &install, "*MediaType", "0")?;
    expect_eq(ddi, &install, "*PhysicalMediaType", "14")?;
    expect_eq(ddi, &install, "*IfConnectorPresent", "0")?;

    let regs = inf.add_reg(&install)?;
    let service_name = reg(&regs, "Ndi", "Service").ok_or("no HKR, Ndi, Service")?;
    expect(
        reg(&regs, "Ndi\\Interfaces", "UpperRange") == Some("ndis5"),
        "Ndi\\Interfaces UpperRange is not ndis5",
    )?;
    expect(
        reg(&regs, "Ndi\\Interfaces", "LowerRange") == Some("ethernet"),
        "Ndi\\Interfaces LowerRange is not ethernet",
    )?;
    check_param(&regs, "*NetworkDirect", "enum", "1", &[0, 1])?;
    check_param(&regs, "*NetworkDirectTechnology", "enum", "4", &[4])?;
    check_param(
        &regs,
        "*NetworkDirectRoCEFrameSize",
        "enum",
        "1024",
        &[256, 512, 1024, 2048, 4096],
    )?;
    check_param(&regs, "CarrierIpAddress", "edit", "", &[])?;
    check_param(&regs, "LowerMacAddress", "edit", "", &[])?;

    // Files.
    let copy = ddi.get("CopyFiles").ok_or("DDInstall has no CopyFiles")?;
    let copy_section = inf.section(copy)?;
    expect(
        copy_section
            .lines
            .iter()
            .any(|(_, v)| fields(v)[0].eq_ignore_ascii_case("softroce.sys")),
        "CopyFiles does not copy softroce.sys",
    )?;
    let dirs = inf.section("DestinationDirs")?;
    expect(
        dirs.get(copy) == Some("13") || dirs.get("DefaultDestDir") == Some("13"),
        "softroce.sys is not copied to DIRID 13",
    )?;
    expect(
        inf.section("SourceDisksFiles")?
            .get("softroce.sys")
            .is_some(),
        "[SourceDisksFiles] lacks softroce.sys",
    )?;
    inf.section("SourceDisksNames")?;

    // The service.
    let services = inf.section(&format!("{install}.Services"))?;
    let add = fields(services.get("AddService").ok_or("no AddService")?);
    expect(
        add.first().map(String::as_str) == Some(service_name),
        "AddService names another service than Ndi\\Service",
    )?;
    expect(
        add.get(1).map(String::as_str) == Some("2"),
        "AddService flags are not 2 (SPSVCINST_ASSOCSERVICE)",
    )?;
    let svc_name = add.get(2).ok_or("AddService names no install section")?;
    let svc = inf.section(svc_name)?;
    expect_eq(svc, svc_name, "ServiceType", "1")?;
    expect_eq(svc, svc_name, "StartType", "3")?;
    expect_eq(svc, svc_name, "ErrorControl", "1")?;
    expect_eq(svc, svc_name, "ServiceBinary", "%13%\\softroce.sys")?;

    // Every %token% used is defined in [Strings] (%N% dirids and %% aside).
    let strings = inf.section("Strings")?;
    let service_token = service_name.trim_matches('%');
    expect(
        strings.get(service_token).map(|v| v.trim_matches('"')) == Some("softroce"),
        "service name is not \"softroce\"",
    )?;
    for section in inf.sections.values() {
        for (k, v) in &section.lines {
            for token in format!("{k} {v}").split('%').skip(1).step_by(2) {
                if token.is_empty() || token.chars().all(|c| c.is_ascii_digit()) {
                    continue;
                }
                expect(
                    strings.get(token).is_some(),
                    format!("%{token}% is not in [Strings]"),
                )?;
            }
        }
    }
    Ok(())
}

#[test]
fn the_template_has_every_required_section_keyword_and_value() {
    if let Err(e) = check(INX) {
        panic!("inf/softroce.inx: {e}");
    }
}

/// Removing or changing any of these lines must make the check fail.
#[test]
fn the_check_rejects_a_template_missing_any_required_line() {
    let required = [
        "Class       = Net",
        "PnpLockdown = 1",
        "= Softroce.ndi, root\\softroce",
        "Characteristics     = 0x1",
        "*IfType             = 6",
        "*MediaType          = 0",
        "*PhysicalMediaType  = 14",
        "UpperRange, 0, \"ndis5\"",
        "LowerRange, 0, \"ethernet\"",
        "HKR, Ndi,            Service",
        "HKR, Ndi\\params\\*NetworkDirect\\enum, \"0\"",
        "HKR, Ndi\\params\\*NetworkDirectTechnology,      Default,   0, \"4\"",
        "HKR, Ndi\\params\\*NetworkDirectRoCEFrameSize\\enum, \"4096\"",
        "HKR, Ndi\\params\\CarrierIpAddress, Type",
        "HKR, Ndi\\params\\LowerMacAddress, Type",
        "ServiceType    = 1",
        "StartType      = 3",
        "ErrorControl   = 1",
        "ServiceBinary  = %13%\\softroce.sys",
        "softroce.sys = 1,,",
        "DefaultDestDir     = 13",
        "DriverVer   =",
        "NetworkDirect              = ",
    ];
    for needle in required {
        let lines: Vec<&str> = INX.lines().collect();
        // The first line holding the needle outside a comment.
        let hit = lines
            .iter()
            .position(|l| !l.trim_start().starts_with(';') && l.contains(needle));
        let Some(i) = hit else {
            panic!("test needle {needle:?} is not in the template");
        };
        let mut mutated = lines.clone();
        mutated.remove(i);
        if needle == "DefaultDestDir     = 13" {
            // Also drop the per-section DIRID so no route to 13 is left.
            mutated.retain(|l| !l.starts_with("Softroce.CopyFiles = 13"));
        }
        assert!(
            check(&mutated.join("\n")).is_err(),
            "removing the line with {needle:?} went unnoticed"
        );
    }
    // A second technology must be refused (exactly one: RoCEv2).
    let two = INX.replace(
        "HKR, Ndi\\params\\*NetworkDirectTechnology\\enum, \"4\",       0, %RoCEv2%",
        "HKR, Ndi\\params\\*NetworkDirectTechnology\\enum, \"4\",       0, %RoCEv2%\n\
         HKR, Ndi\\params\\*NetworkDirectTechnology\\enum, \"1\",       0, %RoCEv2%",
    );
    assert_ne!(two, INX);
    assert!(
        check(&two).is_err(),
        "a second NetworkDirectTechnology went unnoticed"
    );
}

/// Every check the lower-edge (NetTrans) template must pass.
fn check_lower(text: &str) -> Result<(), String> {
    let inf = parse(text)?;
    let version = inf.section("Version")?;
    expect_eq(version, "Version", "Signature", "\"$WINDOWS NT$\"")?;
    expect_eq(version, "Version", "Class", "NetTrans")?;
    expect_eq(
        version,
        "Version",
        "ClassGuid",
        "{4d36e975-e325-11ce-bfc1-08002be10318}",
    )?;
    expect_eq(version, "Version", "CatalogFile", "softroce.cat")?;
    expect_eq(version, "Version", "PnpLockdown", "1")?;
    expect(
        version.get("DriverVer").is_some(),
        "[Version] no DriverVer (stampinf fills it)",
    )?;
    let manufacturer = inf.section("Manufacturer")?;
    let decl = fields(
        manufacturer
            .lines
            .first()
            .map(|(_, v)| v.as_str())
            .ok_or("[Manufacturer] is empty")?,
    );
    let models_name = decl.first().ok_or("[Manufacturer] names no models")?;
    let decoration = decl
        .get(1)
        .ok_or("[Manufacturer] has no target decoration")?;
    expect(
        decoration.starts_with("NT$ARCH$"),
        "[Manufacturer] decoration lacks NT$ARCH$",
    )?;
    let models = inf.section(&format!("{models_name}.{decoration}"))?;
    // The component id netcfg installs: `netcfg -c p -i softroce_lower`.
    let device = models
        .lines
        .iter()
        .map(|(_, v)| fields(v))
        .find(|f| {
            f.get(1)
                .is_some_and(|h| h.eq_ignore_ascii_case("softroce_lower"))
        })
        .ok_or("no model with component id softroce_lower")?;
    let install = device[0].clone();
    let ddi = inf.section(&install)?;
    expect(
        ddi.get("Characteristics").is_some(),
        "DDInstall has no Characteristics",
    )?;
    let regs = inf.add_reg(&install)?;
    let service = reg(&regs, "Ndi", "Service").ok_or("no HKR, Ndi, Service")?;
    expect(
        reg(&regs, "Ndi\\Interfaces", "UpperRange") == Some("noupper"),
        "Ndi\\Interfaces UpperRange is not noupper",
    )?;
    let lower = reg(&regs, "Ndi\\Interfaces", "LowerRange").unwrap_or_default();
    expect(
        lower.split(',').any(|r| r.trim() == "ethernet"),
        "Ndi\\Interfaces LowerRange lacks ethernet",
    )?;
    // The service is the driver's (softroce.inf installs it): the protocol's
    // Ndi\Service must name the same service, and this INF adds none.
    let strings = inf.section("Strings")?;
    expect(
        strings
            .get(service.trim_matches('%'))
            .map(|v| v.trim_matches('"'))
            == Some("softroce"),
        "Ndi\\Service is not \"softroce\"",
    )?;
    if let Ok(services) = inf.section(&format!("{install}.Services")) {
        expect(
            services.get("AddService").is_none(),
            "the lower INF must not install the service (softroce.inf does)",
        )?;
    }
    for section in inf.sections.values() {
        for (k, v) in &section.lines {
            for token in format!("{k} {v}").split('%').skip(1).step_by(2) {
                if token.is_empty() || token.chars().all(|c| c.is_ascii_digit()) {
                    continue;
                }
                expect(
                    strings.get(token).is_some(),
                    format!("%{token}% is not in [Strings]"),
                )?;
            }
        }
    }
    Ok(())
}

#[test]
fn the_lower_template_is_a_nettrans_protocol_for_the_softroce_service() {
    if let Err(e) = check_lower(LOWER_INX) {
        panic!("inf/softroce_lower.inx: {e}");
    }
}

#[test]
fn the_lower_check_rejects_a_template_missing_any_required_line() {
    let required = [
        "Class       = NetTrans",
        "ClassGuid   = {4d36e975",
        "= SoftroceLower.ndi, softroce_lower",
        "HKR, Ndi,            Service",
        "UpperRange,  0, \"noupper\"",
        "LowerRange,  0, \"ethernet,ndis5\"",
        "ServiceName                = \"softroce\"",
        "DriverVer   =",
    ];
    let lines: Vec<&str> = LOWER_INX.lines().collect();
    for needle in required {
        let Some(i) = lines
            .iter()
            .position(|l| !l.trim_start().starts_with(';') && l.contains(needle))
        else {
            panic!("test needle {needle:?} is not in the lower template");
        };
        let mut mutated = lines.clone();
        mutated.remove(i);
        assert!(
            check_lower(&mutated.join("\n")).is_err(),
            "removing the line with {needle:?} went unnoticed"
        );
    }
    let with_service = LOWER_INX.replace(
        "[SoftroceLower.ndi.Services]",
        "[SoftroceLower.ndi.Services]\nAddService = %ServiceName%, 2, X",
    );
    assert!(
        check_lower(&with_service).is_err(),
        "an AddService went unnoticed"
    );
    let renamed = LOWER_INX.replace(
        "ServiceName                = \"softroce\"",
        "ServiceName                = \"other\"",
    );
    assert!(
        check_lower(&renamed).is_err(),
        "another service went unnoticed"
    );
}
