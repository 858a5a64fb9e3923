# Fuzz targets of the hardening work (issue 5); c2c_add_fuzz_target is defined in CMakeLists.txt.
#  relay_router: raw HTTP requests -> Router -> RelayService -> memory store, dev and prod mode.
#  mcp_line:     JSON-RPC lines -> mcp::Server::handle_line over a real broker directory.
#  broker_files: arbitrary registry.json / inbox / remote-outbox.jsonl contents -> Broker readers.
c2c_add_fuzz_target(relay_router LIBS c2c_relay_server c2c_relay_protocol c2c_relay_store
                                      c2c_crypto c2c_core)
c2c_add_fuzz_target(mcp_line LIBS c2c_mcp c2c_broker c2c_core)
c2c_add_fuzz_target(broker_files LIBS c2c_broker c2c_core)
