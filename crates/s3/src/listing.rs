//! ListObjects/ListObjectsV2 over a sorted key index: prefix, delimiter (CommonPrefixes), a start
//! position and max-keys, with CommonPrefixes counting toward max-keys as on S3.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::storage::ObjectMeta;

#[derive(Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    Object(&'a ObjectMeta),
    CommonPrefix(String),
}

#[derive(Debug)]
pub struct Page<'a> {
    pub entries: Vec<Entry<'a>>,
    pub truncated: bool,
}

impl Page<'_> {
    /// The key or common prefix to resume after.
    pub fn last(&self) -> Option<&str> {
        self.entries.last().map(|e| match e {
            Entry::Object(meta) => meta.key.as_str(),
            Entry::CommonPrefix(prefix) => prefix.as_str(),
        })
    }
}

/// Lists keys starting with `prefix` strictly after `after`.
pub fn list<'a>(
    objects: &'a BTreeMap<String, ObjectMeta>,
    prefix: &str,
    delimiter: &str,
    after: &str,
    max_keys: usize,
) -> Page<'a> {
    let start = if after >= prefix {
        Bound::Excluded(after)
    } else {
        Bound::Included(prefix)
    };
    let mut entries = Vec::new();
    let mut truncated = false;
    let mut last_prefix: Option<String> = None;
    for (key, meta) in objects.range::<str, _>((start, Bound::Unbounded)) {
        if !key.starts_with(prefix) {
            break;
        }
        let common = (!delimiter.is_empty())
            .then(|| {
                key[prefix.len()..]
                    .find(delimiter)
                    .map(|at| key[..prefix.len() + at + delimiter.len()].to_string())
            })
            .flatten();
        if let Some(common) = &common {
            // Already returned on this page, or on an earlier one when resuming from inside it.
            if last_prefix.as_deref() == Some(common.as_str()) || after.starts_with(common.as_str())
            {
                continue;
            }
        }
        if entries.len() == max_keys {
            truncated = true;
            break;
        }
        match common {
            Some(common) => {
                last_prefix = Some(common.clone());
                entries.push(Entry::CommonPrefix(common));
            }
            None => entries.push(Entry::Object(meta)),
        }
    }
    Page { entries, truncated }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(keys: &[&str]) -> BTreeMap<String, ObjectMeta> {
        keys.iter()
            .map(|k| {
                (
                    k.to_string(),
                    ObjectMeta {
                        key: k.to_string(),
                        size: 0,
                        etag: String::new(),
                        last_modified: chrono::Utc::now(),
                        headers: BTreeMap::new(),
                        user_metadata: BTreeMap::new(),
                        checksums: BTreeMap::new(),
                    },
                )
            })
            .collect()
    }

    fn names(page: &Page<'_>) -> Vec<String> {
        page.entries
            .iter()
            .map(|e| match e {
                Entry::Object(m) => m.key.clone(),
                Entry::CommonPrefix(p) => format!("{p}*"),
            })
            .collect()
    }

    #[test]
    fn delimiter_groups_and_pages_resume_after_a_common_prefix() {
        let objects = index(&["a/1", "a/2", "b", "c/x/1", "c/y", "d"]);
        let page = list(&objects, "", "/", "", 1000);
        assert_eq!(names(&page), ["a/*", "b", "c/*", "d"]);
        assert!(!page.truncated);

        let first = list(&objects, "", "/", "", 2);
        assert_eq!(names(&first), ["a/*", "b"]);
        assert!(first.truncated);
        let second = list(&objects, "", "/", first.last().unwrap(), 2);
        assert_eq!(names(&second), ["c/*", "d"]);
        assert!(!second.truncated);

        let after_prefix = list(&objects, "", "/", "a/", 10);
        assert_eq!(names(&after_prefix), ["b", "c/*", "d"]);

        let nested = list(&objects, "c/", "/", "", 10);
        assert_eq!(names(&nested), ["c/x/*", "c/y"]);
        let flat = list(&objects, "c", "", "", 10);
        assert_eq!(names(&flat), ["c/x/1", "c/y"]);
        assert!(list(&objects, "", "", "", 0).entries.is_empty());
    }

    #[test]
    fn every_key_is_listed_exactly_once_across_pages() {
        let keys: Vec<String> = (0..50).map(|i| format!("p{}/k{i:02}", i % 4)).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let objects = index(&refs);
        for page_size in 1..7 {
            let mut seen = Vec::new();
            let mut after = String::new();
            loop {
                let page = list(&objects, "p1", "", &after, page_size);
                seen.extend(names(&page));
                if !page.truncated {
                    break;
                }
                after = page.last().unwrap().to_string();
            }
            let expected: Vec<String> = objects
                .keys()
                .filter(|k| k.starts_with("p1"))
                .cloned()
                .collect();
            assert_eq!(seen, expected, "page size {page_size}");
        }
    }
}
