"""One module per model family; each ``add_*`` adds its sets, variables and constraints and
does nothing when its subset is empty. ``model.build.build_model`` calls them in order."""

#: Rows that only tighten the LP relaxation, implied by the requirement rows, or that keep
#: one of equally good mirror-image designs (``traffic_twin``): left out of the elastic
#: model that explains infeasibility (model/explain.py) and of the pricing LP
#: (model/pricing.py: its duals must price paths, and it solves faster without them).
STRENGTHENING = (
    "traffic_twin",
    "links_site_cut",
    "links_connect",
    "compute_zone_cap",
    "compute_zone_cap_cool",
    "traffic_sync_partner",
    "traffic_sync_lit",
    "traffic_relay_pair",
    "traffic_relay_gpu",
    "power_rack_it",
    "power_norack_it",
)
