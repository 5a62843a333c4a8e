//! Dynamic metadata: reads the tenant an earlier filter stored in the request's dynamic metadata
//! (`metadata.filter_metadata.auth.tenant`), adds it as the `x-tenant` header, and records the tenant's tier
//! for later filters and the access log in the filter state `wasm.tenant_tier` (the plugin sets the property
//! `tenant_tier`; Envoy adds the `wasm.` prefix).

use proxywasm::{http, properties, Action, Context, HttpContext, RootContext};

/// Where the earlier filter stores the tenant.
pub const TENANT: [&str; 4] = ["metadata", "filter_metadata", "auth", "tenant"];
/// The property this plugin sets to the tier.
pub const TIER: [&str; 1] = ["tenant_tier"];
/// The filter state key later filters read it under.
pub const TIER_FILTER_STATE: &str = "wasm.tenant_tier";

/// The tier of a tenant.
pub fn tier_of(tenant: &str) -> &'static str {
    if tenant.starts_with("ent-") {
        "enterprise"
    } else {
        "standard"
    }
}

/// The root context.
pub struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn new_http_context(&mut self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Tenant))
    }
}

/// One HTTP stream.
pub struct Tenant;

impl Context for Tenant {}

impl HttpContext for Tenant {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let tenant = match properties::get_string(&TENANT) {
            Ok(Some(tenant)) => tenant,
            Ok(None) => return Action::Continue,
            Err(e) => {
                proxywasm::logging::warn(&format!("dynamic_metadata: cannot read the tenant: {e}"));
                return Action::Continue;
            }
        };
        if let Err(e) = http::replace_request_header("x-tenant", &tenant) {
            proxywasm::logging::warn(&format!("dynamic_metadata: cannot set x-tenant: {e}"));
        }
        if let Err(e) = properties::set(&TIER, tier_of(&tenant).as_bytes()) {
            proxywasm::logging::warn(&format!("dynamic_metadata: cannot record the tier: {e}"));
        }
        Action::Continue
    }
}

/// Creates the root context.
pub fn new_root(_context_id: u32) -> Box<dyn RootContext> {
    Box::new(Root)
}

proxywasm::main!(new_root);

#[cfg(test)]
mod tests {
    use super::*;
    use proxywasm_emulator::Emulator;

    proxywasm_emulator::emulator_tests! {
        plugin: new_root;

        fn copies_the_tenant_and_records_its_tier(plugin) {
            let host = Emulator::builder()
                .property(&TENANT, "ent-acme")
                .load(plugin);
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/")], true);
            assert!(host
                .http_stream(stream)
                .request_headers
                .contains(&("x-tenant".into(), "ent-acme".into())));
            assert_eq!(
                host.filter_state(stream, TIER_FILTER_STATE),
                Some(b"enterprise".to_vec())
            );
        }

        fn without_metadata_nothing_changes(plugin) {
            let host = Emulator::builder().load(plugin);
            let stream = host.new_http_stream();
            host.request_headers(stream, &[(":path", "/")], true);
            assert_eq!(host.http_stream(stream).request_headers.len(), 1);
            assert_eq!(host.filter_state(stream, TIER_FILTER_STATE), None);
        }
    }

    proxywasm_emulator::envoy_yaml_test!(plugin: new_root);
}
