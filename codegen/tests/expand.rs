//! The shared spec file (`;; @include`, `;; @versions`): each version gets exactly its items, the result is
//! plain witx, and every mistake is reported at the file and line it was written in.

use proxywasm_codegen::expand::version_document;
use proxywasm_codegen::parser;
use proxywasm_codegen::version::{default_spec_dir, Version};
use std::path::{Path, PathBuf};

/// A spec folder under the temp dir: the real `types.witx`, a version document per version that includes
/// `abi.witx`, and `abi.witx` holding `shared`.
fn scratch(name: &str, shared: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("proxywasm-expand-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        default_spec_dir().join("types.witx"),
        dir.join("types.witx"),
    )
    .unwrap();
    for v in Version::ALL {
        std::fs::write(
            v.document(&dir),
            "(use \"types.witx\")\n\n;; @include \"abi.witx\"\n",
        )
        .unwrap();
    }
    std::fs::write(dir.join("abi.witx"), shared).unwrap();
    dir
}

fn error(dir: &Path, version: Version) -> String {
    parser::load(dir, version).unwrap_err().to_string()
}

#[test]
fn each_version_document_is_plain_witx_read_the_same_way() {
    let spec = default_spec_dir();
    for v in Version::ALL {
        let text = version_document(&spec, v).unwrap().text();
        assert!(!text.contains("@versions") && !text.contains("@include"));
        let dir = std::env::temp_dir().join(format!(
            "proxywasm-expanded-{}-{}",
            v.underscored(),
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(spec.join("types.witx"), dir.join("types.witx")).unwrap();
        std::fs::write(v.document(&dir), &text).unwrap();
        witx::load(&[v.document(&dir)]).unwrap_or_else(|e| panic!("{v}: {}", e.report()));
        assert_eq!(
            parser::load(&dir, v).unwrap(),
            parser::load(&spec, v).unwrap(),
            "{v}: the expanded document reads differently from the spec"
        );
    }
}

const SHARED: &str = "\
;; A header: not part of any version.

;; @versions 0.2.0+
;;; Added in 0.2.0.
(@witx const $stream_type $http_request 0)

(module $env.x
  ;;; In every version.
  (@interface func (export \"proxy_all\")
    (result $error (expected (error $status))))

  ;; @versions 0.1.0
  ;;; The old form.
  (@interface func (export \"proxy_changed\")
    (result $error (expected (error $status))))

  ;; @versions 0.2.0+
  ;;; The new form.
  (@interface func (export \"proxy_changed\")
    ;;; New.
    (param $size $size)
    (result $error (expected (error $status))))

  ;; @versions 0.2.1
  ;;; Only in 0.2.1.
  (@interface func (export \"proxy_newest\")
    (result $error (expected (error $status))))
)

;; @versions 0.1.0
(module $env.old
  ;;; Only in 0.1.0.
  (@interface func (export \"proxy_old\")
    (result $error (expected (error $status))))
)
";

#[test]
fn an_item_belongs_exactly_to_the_versions_it_names() {
    let dir = scratch("select", SHARED);
    let names = |v: Version| {
        let abi = parser::load(&dir, v).unwrap_or_else(|e| panic!("{v}: {e}"));
        let params: Vec<String> = abi
            .imports
            .iter()
            .map(|f| format!("{}/{}", f.name, f.params.len()))
            .collect();
        let stream_types = abi
            .enums
            .iter()
            .find(|e| e.name == "stream_type")
            .map_or(0, |e| e.cases.len());
        (params, stream_types)
    };
    assert_eq!(
        names(Version::V0_1_0),
        (
            vec![
                "proxy_all/0".into(),
                "proxy_changed/0".into(),
                "proxy_old/0".into()
            ],
            0
        )
    );
    assert_eq!(
        names(Version::V0_2_0),
        (vec!["proxy_all/0".into(), "proxy_changed/1".into()], 1)
    );
    assert_eq!(
        names(Version::V0_2_1),
        (
            vec![
                "proxy_all/0".into(),
                "proxy_changed/1".into(),
                "proxy_newest/0".into()
            ],
            1
        )
    );
    let text = version_document(&dir, Version::V0_2_0).unwrap().text();
    assert!(!text.contains("A header"), "{text}");
    assert!(!text.contains("\n\n\n"), "{text}");
}

#[test]
fn a_mistake_in_the_shared_file_names_its_file_and_line() {
    let dir = scratch(
        "unknown-type",
        &SHARED.replace("(param $size $size)", "(param $size $no_such_type)"),
    );
    let err = error(&dir, Version::V0_2_0);
    assert!(err.contains("abi.witx:21:"), "{err}");
    assert!(err.contains("no_such_type"), "{err}");
    // 0.1.0 does not take that function, so it loads.
    assert!(parser::load(&dir, Version::V0_1_0).is_ok());
}

#[test]
fn two_forms_of_a_function_in_one_version_are_a_redefinition_at_both_places() {
    let dir = scratch(
        "twice",
        &SHARED.replace(
            ";; @versions 0.1.0\n  ;;; The old form.",
            ";;; The old form.",
        ),
    );
    let err = error(&dir, Version::V0_2_0);
    assert!(err.contains("Redefinition"), "{err}");
    assert!(
        err.contains("abi.witx:13:") && err.contains("abi.witx:18:"),
        "{err}"
    );
}

#[test]
fn bad_version_lists_are_refused_at_their_line() {
    let unknown = scratch("unknown-version", &SHARED.replace("0.2.1\n", "0.3.0\n"));
    let err = error(&unknown, Version::V0_2_1);
    assert!(
        err.contains("abi.witx:24:") && err.contains("unknown ABI version `0.3.0`"),
        "{err}"
    );

    let outside = scratch(
        "outside-module",
        &SHARED.replace(
            "  ;;; Only in 0.1.0.",
            "  ;; @versions 0.2.0\n  ;;; Only in 0.1.0.",
        ),
    );
    let err = error(&outside, Version::V0_1_0);
    assert!(
        err.contains("abi.witx:34:") && err.contains("module's `@versions`"),
        "{err}"
    );

    let empty = scratch(
        "empty-module",
        &SHARED.replace(
            ";; @versions 0.1.0\n(module $env.old\n",
            "(module $env.old\n  ;; @versions 0.1.0\n",
        ),
    );
    let err = error(&empty, Version::V0_2_0);
    assert!(
        err.contains("abi.witx:30:") && err.contains("nothing of this module belongs to 0.2.0"),
        "{err}"
    );

    let loose = scratch(
        "loose",
        &SHARED.replace(
            ";; @versions 0.1.0\n(module",
            ";; @versions 0.1.0\n\n(module",
        ),
    );
    let err = error(&loose, Version::V0_2_0);
    assert!(
        err.contains("abi.witx:30:") && err.contains("right above its item"),
        "{err}"
    );
}

#[test]
fn a_version_document_cannot_select_versions_itself() {
    let dir = scratch("in-version-document", SHARED);
    std::fs::write(
        Version::V0_2_1.document(&dir),
        "(use \"types.witx\")\n;; @versions 0.2.1\n",
    )
    .unwrap();
    let err = error(&dir, Version::V0_2_1);
    assert!(
        err.contains("proxy_wasm_0_2_1.witx:2:") && err.contains("included file"),
        "{err}"
    );
}
