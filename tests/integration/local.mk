# Integration tests: the real presgwd against the Graph simulator
# (tests/graphsim) and real SIP peers (sipp, baresip), all on 127.0.0.1,
# each on ports of its own, so they run in parallel under make -j.  A test
# whose peer is not installed is skipped (exit 77).
INTEGRATION_TESTS = \
	tests/integration/publish_call_sets_busy_in_call.sh \
	tests/integration/baresip_subscribes_and_publishes.sh \
	tests/integration/call_end_by_remove_and_offline.sh \
	tests/integration/publish_dnd_sets_preferred.sh \
	tests/integration/publication_expires_ends_call.sh \
	tests/integration/graph_throttled_write_retried.sh \
	tests/integration/graph_outage_queue_drains_once.sh \
	tests/integration/graph_late_write_reasserted.sh \
	tests/integration/graph_batch_burst.sh \
	tests/integration/graph_restart_sends_pending_once.sh \
	tests/integration/teams_dnd_notifies_watcher.sh \
	tests/integration/sighup_reloads_user_map.sh \
	tests/integration/sigterm_stops_cleanly.sh \
	tests/integration/malformed_publish_gets_400.sh \
	tests/integration/bad_subscribe_refused.sh \
	tests/integration/publish_cycle_entity_tags.sh \
	tests/integration/config_check.sh \
	tests/integration/teams_change_by_webhook.sh \
	tests/integration/graph_subscription_lifecycle.sh \
	tests/integration/graph_account_revoked.sh \
	tests/integration/teams_change_by_rich_notification.sh \
	tests/integration/teams_rich_replay_refused.sh \
	tests/integration/graph_notify_flood_summarized.sh \
	tests/integration/presgwctl_login_names_account.sh \
	tests/integration/graph_subscription_renewed_by_graph_clock.sh \
	tests/integration/graph_token_by_certificate.sh \
	tests/integration/graph_651_users_two_subscriptions.sh \
	tests/integration/graph_cloud_without_notifications_polls.sh \
	tests/integration/publish_limit_per_user.sh

TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/lib-notify.sh \
	tests/integration/README.md \
	tests/integration/lib.sh \
	tests/integration/lib-gwq.sh \
	tests/integration/ittool.py \
	tests/integration/richtool.py \
	tests/sipp/publish-call.xml \
	tests/sipp/publish-cycle.xml \
	tests/sipp/publish-dnd.xml \
	tests/sipp/publish-errors.xml \
	tests/sipp/publish-once.xml \
	tests/sipp/publish-new.xml \
	tests/sipp/publish-states.xml \
	tests/sipp/subscribe-errors.xml \
	tests/sipp/subscribe-hold.xml \
	tests/sipp/subscribe-watch.xml \
	tests/sipp/unknown-user.xml

# Subscriptions kept across restarts and NOTIFY failures.
TESTS += tests/integration/restart_resumes_subscriptions.sh \
	tests/integration/notify_failure_policy.sh \
	tests/integration/expiry_while_down.sh \
	tests/integration/blf_dialog_version_across_restart.sh
EXTRA_DIST += tests/integration/restart_resumes_subscriptions.sh \
	tests/integration/notify_failure_policy.sh \
	tests/integration/expiry_while_down.sh \
	tests/integration/blf_dialog_version_across_restart.sh \
	tests/sipp/subscribe-expiring.xml \
	tests/sipp/subscribe-resume.xml \
	tests/sipp/subscribe-resume-routed.xml \
	tests/sipp/notify-fail.xml

# Resource lists (RFC 4662).
TESTS += tests/integration/blf_list_full_then_partial.sh \
	tests/integration/list_subscription_resumed.sh
EXTRA_DIST += tests/integration/blf_list_full_then_partial.sh \
	tests/integration/list_subscription_resumed.sh \
	tests/sipp/subscribe-list.xml \
	tests/sipp/subscribe-list-resume.xml

# Desk phones: BLF keys (dialog), DND and forwarding keys
# (as-feature-event), call state from a proxy, and Kamailio in front
# (skipped when kamailio is not installed).
TESTS += \
	tests/integration/yealink_blf_follows_teams_call.sh \
	tests/integration/poly_dnd_key_both_ways.sh \
	tests/integration/dnd_echo_writes_once.sh \
	tests/integration/publish_dialog_from_proxy.sh \
	tests/integration/kamailio_proxy_routes_presence.sh \
	tests/integration/resume_through_proxy.sh \
	tests/integration/teams_dnd_again_after_key_off.sh
EXTRA_DIST += \
	tests/integration/yealink_blf_follows_teams_call.sh \
	tests/integration/poly_dnd_key_both_ways.sh \
	tests/integration/dnd_echo_writes_once.sh \
	tests/integration/publish_dialog_from_proxy.sh \
	tests/integration/kamailio_proxy_routes_presence.sh \
	tests/integration/resume_through_proxy.sh \
	tests/integration/teams_dnd_again_after_key_off.sh \
	tests/integration/lib-phones.sh \
	tests/integration/kamailio-test.cfg.in \
	sip-configs/kamailio-presgw.cfg \
	tests/sipp/blf-watch.xml \
	tests/sipp/feature-hold.xml \
	tests/sipp/feature-sync.xml \
	tests/sipp/publish-dialog.xml

# Per-phone PIDF.
TESTS += tests/integration/cisco_blf_gets_cisco_pidf.sh
EXTRA_DIST += tests/integration/cisco_blf_gets_cisco_pidf.sh \
	tests/sipp/subscribe-cisco.xml

# The HTTP listener: /healthz, limits, HTTPS, reload.
TESTS += tests/integration/http_healthz_and_limits.sh
EXTRA_DIST += tests/integration/http_healthz_and_limits.sh

# Slow clients: connections per address, a deadline for each request.
TESTS += tests/integration/http_slow_clients_limited.sh
EXTRA_DIST += tests/integration/http_slow_clients_limited.sh

# The store at its edges: a full disk (a tmpfs in a mount namespace of the
# test's own; skipped where that is not permitted), a store refused at
# start, and the online backup and its restore.
TESTS += \
	tests/integration/store_disk_full_keeps_serving.sh \
	tests/integration/store_corrupt_refused_at_start.sh \
	tests/integration/store_backup_while_running.sh \
	tests/integration/store_removed_while_running.sh
EXTRA_DIST += \
	tests/integration/store_disk_full_keeps_serving.sh \
	tests/integration/store_corrupt_refused_at_start.sh \
	tests/integration/store_backup_while_running.sh \
	tests/integration/store_removed_while_running.sh

# Crashes under load: presgwd killed with SIGKILL at random moments while
# phones publish, watchers hold their dialogs and Teams changes.
TESTS += tests/integration/fault_sigkill_under_load.sh
EXTRA_DIST += tests/integration/fault_sigkill_under_load.sh \
	tests/integration/faultload.py
