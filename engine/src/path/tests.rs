use super::*;
use crate::json;

fn sel(path: &str, doc: &Value) -> Value {
    Path::parse(path).unwrap().select_value(doc).unwrap()
}

fn miss(path: &str, doc: &Value) -> String {
    match Path::parse(path).unwrap().select(doc).unwrap_err() {
        SelectError::Miss(miss) => miss.message,
        other => panic!("{other}"),
    }
}

fn store() -> Value {
    json!({
        "store": {
            "book": [
                {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
                {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99, "isbn": "0-553"},
                {"category": "fiction", "author": "Tolkien", "title": "LOTR", "price": 22.99, "isbn": "0-395"}
            ],
            "bicycle": {"color": "red", "price": 19.95}
        },
        "a-b": 1,
        "Test\\\"\"Name\"": "escaped"
    })
}

#[test]
fn roots() {
    assert_eq!(Path::parse("$").unwrap().root(), &Root::Input);
    assert_eq!(
        Path::parse("$$.Execution.Id").unwrap().root(),
        &Root::Context
    );
    assert_eq!(
        Path::parse("$myVar.x").unwrap().root(),
        &Root::Variable("myVar".into())
    );
    assert!(Path::parse("$").unwrap().is_root_only());
}

#[test]
fn definite_paths_select_one_value() {
    let doc = store();
    assert_eq!(sel("$.store.bicycle.color", &doc), json!("red"));
    assert_eq!(
        sel("$['store']['book'][0]['author']", &doc),
        json!("Nigel Rees")
    );
    assert_eq!(sel("$.store.book[-1].title", &doc), json!("LOTR"));
    assert_eq!(sel("$.a-b", &doc), json!(1));
    assert_eq!(sel(r#"$['Test\""Name"']"#, &doc), json!("escaped"));
    assert!(Path::parse("$.store.book[0]").unwrap().is_definite());
}

#[test]
fn missing_definite_paths_use_jayway_wording() {
    let doc = store();
    assert_eq!(miss("$.nothing", &doc), "No results for path: $['nothing']");
    assert_eq!(
        miss("$.no.such.path", &doc),
        "Missing property in path $['no']"
    );
    assert_eq!(
        miss("$.store.book[7]", &doc),
        "No results for path: $['store']['book'][7]"
    );
}

#[test]
fn indefinite_paths_select_lists() {
    let doc = store();
    assert_eq!(
        sel("$.store.book[*].author", &doc),
        json!(["Nigel Rees", "Evelyn Waugh", "Tolkien"])
    );
    assert_eq!(
        sel("$.store.book[1:].title", &doc),
        json!(["Sword", "LOTR"])
    );
    assert_eq!(sel("$.store.book[:1].title", &doc), json!(["Sayings"]));
    assert_eq!(
        sel("$.store.book[-2:].title", &doc),
        json!(["Sword", "LOTR"])
    );
    assert_eq!(
        sel("$.store.book[0,2].title", &doc),
        json!(["Sayings", "LOTR"])
    );
    assert_eq!(
        sel("$.store.bicycle['color','price']", &doc),
        json!(["red", 19.95])
    );
    assert_eq!(sel("$..price", &doc), json!([8.95, 12.99, 22.99, 19.95]));
    assert_eq!(sel("$.missing[*]", &doc), json!([]));
    assert_eq!(sel("$.item.items[1:5].itemValue", &json!({})), json!([]));
}

#[test]
fn filters() {
    let doc = store();
    assert_eq!(
        sel("$.store.book[?(@.price < 10)].title", &doc),
        json!(["Sayings"])
    );
    assert_eq!(
        sel("$.store.book[?(@.isbn)].title", &doc),
        json!(["Sword", "LOTR"])
    );
    assert_eq!(
        sel(
            "$.store.book[?(@.category == 'fiction' && @.price > 20)].title",
            &doc
        ),
        json!(["LOTR"])
    );
    assert_eq!(
        sel("$.store.book[?(@.author =~ /.*rees/i)].title", &doc),
        json!(["Sayings"])
    );
    assert_eq!(
        sel("$.store.book[?(@.category in ['reference'])].title", &doc),
        json!(["Sayings"])
    );
    assert_eq!(
        sel(
            "$.store.book[?(!(@.price > 10) || @.title == \"LOTR\")].title",
            &doc
        ),
        json!(["Sayings", "LOTR"])
    );
    assert_eq!(
        sel(
            "$.store.book[?(@.price > $.store.bicycle.price)].title",
            &doc
        ),
        json!(["LOTR"])
    );
    let users = json!({"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}]});
    assert_eq!(
        sel("$.users[?(@.status == 0)]", &users),
        json!([{"year": 1997, "status": 0}])
    );
}

#[test]
fn functions() {
    let doc = store();
    assert_eq!(sel("$.store.book.length()", &doc), json!(3));
    assert_eq!(sel("$.store.book[*].price.max()", &doc), json!(22.99));
    assert_eq!(
        sel("$.store.bicycle.keys()", &doc),
        json!(["color", "price"])
    );
}

#[test]
fn syntax_errors_say_why() {
    for bad in [
        "store",
        "$.",
        "$[",
        "$['a'",
        "$.a[?(@.x ==)]",
        "$.a.nope()",
        "$[1:2:3]",
    ] {
        assert!(Path::parse(bad).is_err(), "{bad} should not parse");
    }
    let err = Path::parse("$.a b").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid JSONPath '$.a b': unexpected ' ' at position 3"
    );
}

#[test]
fn reference_paths_write_and_create() {
    let input = json!({"a": {"keep": 1}, "list": [1, 2]});
    let set = |path: &str, target: &Value| {
        let mut out = target.clone();
        ReferencePath::parse(path)
            .unwrap()
            .set(&mut out, json!("v"))
            .map(|()| out)
    };
    assert_eq!(set("$", &input).unwrap(), json!("v"));
    assert_eq!(
        set("$.a.b.c", &input).unwrap(),
        json!({"a": {"keep": 1, "b": {"c": "v"}}, "list": [1, 2]})
    );
    assert_eq!(
        set("$.list[1]", &input).unwrap(),
        json!({"a": {"keep": 1}, "list": [1, "v"]})
    );
    assert!(set("$.list[5]", &input).is_err());
    assert!(set("$.a.keep.x", &input).is_err());
    assert!(set("$.x", &json!("a string")).is_err());
    let mut unchanged = input.clone();
    assert!(
        ReferencePath::parse("$.a.keep.x")
            .unwrap()
            .set(&mut unchanged, json!(1))
            .is_err()
    );
    assert_eq!(
        unchanged, input,
        "a failed write leaves the target as it was"
    );
    assert!(ReferencePath::parse("$.a[*]").is_err());
    assert!(ReferencePath::parse("$$.a").is_err());
}

#[test]
fn writes_share_untouched_subtrees() {
    let input = json!({"big": {"x": [1, 2, 3]}, "small": 1});
    let mut out = input.clone();
    ReferencePath::parse("$.result")
        .unwrap()
        .set(&mut out, json!(1))
        .unwrap();
    assert!(out.get("big").unwrap().ptr_eq(input.get("big").unwrap()));
}

#[test]
fn selections_are_bounded() {
    // 1,000 objects nested in one another: 6 KB of text.
    let depth = 1000;
    let text = "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
    let deep = crate::value::parse_json_str(&text).unwrap();
    let one_scan = Path::parse("$..*").unwrap().select(&deep).unwrap();
    assert!(matches!(one_scan, Selection::Many(items) if items.len() == depth));
    let err = Path::parse("$..*..*..*")
        .unwrap()
        .select(&deep)
        .unwrap_err();
    assert_eq!(err, SelectError::TooMany);
    assert_eq!(
        err.to_string(),
        format!(
            "selects more than {MAX_SELECTED} values, more than the 256 KiB payload limit can hold"
        )
    );
    // A wide array is within the bound however it is selected.
    let wide = Value::array((0..100_000).map(Value::from).collect());
    let all = Path::parse("$..*").unwrap().select(&wide).unwrap();
    assert!(matches!(all, Selection::Many(items) if items.len() == 100_000));
}
