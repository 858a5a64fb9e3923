# registry_parser: registry.json texts -> the broker's hand-written registry reader, checked
# against nlohmann-json as the reference (differential; see registry_parser_fuzz.cpp).
c2c_add_fuzz_target(registry_parser LIBS c2c_broker c2c_core)
