#include "c2c/broker/codec.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#include "c2c/core/text.hpp"

namespace c2c::broker::codec {

using nlohmann::json;

// ---------- writers ----------

void put_string(std::string& out, std::string_view s) {
  append_json_string(out, s);
}

void put_double(std::string& out, double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string_view text(buf, static_cast<size_t>(res.ptr - buf));
  out.append(text);
  if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
}

namespace {

void put_int(std::string& out, long long v) {
  out += std::to_string(v);
}

void key(std::string& out, std::string_view k, bool& first) {
  if (!first) out.push_back(',');
  first = false;
  put_string(out, k);
  out.push_back(':');
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void put_message_fields(std::string& out, const Message& m, bool& first, bool with_ts) {
  key(out, "from_alias", first);
  put_string(out, m.from_alias);
  key(out, "to_alias", first);
  put_string(out, m.to_alias);
  key(out, "content", first);
  put_string(out, m.content);
  if (with_ts) {
    key(out, "ts", first);
    put_double(out, m.ts);
  }
  if (m.deferrable) {
    key(out, "deferrable", first);
    out += "true";
  }
  if (m.ephemeral) {
    key(out, "ephemeral", first);
    out += "true";
  }
  if (m.reply_via) {
    key(out, "reply_via", first);
    put_string(out, *m.reply_via);
  }
  if (m.message_id) {
    key(out, "message_id", first);
    put_string(out, *m.message_id);
  }
  if (m.enc_status) {
    key(out, "enc_status", first);
    put_string(out, *m.enc_status);
  }
  if (m.room_id) {
    key(out, "room_id", first);
    put_string(out, *m.room_id);
  }
  if (m.via_relay) {
    key(out, "via_relay", first);
    out += "true";
  }
}

void put_registration(std::string& out, const Registration& r) {
  bool first = true;
  out.push_back('{');
  key(out, "session_id", first);
  put_string(out, r.session_id);
  key(out, "alias", first);
  put_string(out, r.alias);
  if (r.pid) {
    key(out, "pid", first);
    put_int(out, *r.pid);
  }
  if (r.pid_start_time) {
    key(out, "pid_start_time", first);
    put_int(out, *r.pid_start_time);
  }
  if (r.registered_at) {
    key(out, "registered_at", first);
    put_double(out, *r.registered_at);
  }
  if (!r.client_type.empty()) {
    key(out, "client_type", first);
    put_string(out, r.client_type);
  }
  if (r.confirmed_at) {
    key(out, "confirmed_at", first);
    put_double(out, *r.confirmed_at);
  }
  if (!r.role.empty()) {
    key(out, "role", first);
    put_string(out, r.role);
  }
  if (r.extra.is_object()) {
    for (const auto& [k, v] : r.extra.items()) {
      if (k == "session_id" || k == "alias" || (k == "pid" && r.pid) ||
          (k == "pid_start_time" && r.pid_start_time) ||
          (k == "registered_at" && r.registered_at) ||
          (k == "client_type" && !r.client_type.empty()) ||
          (k == "confirmed_at" && r.confirmed_at) || (k == "role" && !r.role.empty())) {
        continue;
      }
      key(out, k, first);
      out += dump(v);
    }
  }
  out.push_back('}');
}

}  // namespace

std::string message_json(const Message& m) {
  std::string out;
  out.reserve(96 + m.content.size());
  bool first = true;
  out.push_back('{');
  put_message_fields(out, m, first, true);
  out.push_back('}');
  return out;
}

std::string registry_json(const std::vector<Registration>& regs) {
  std::string out;
  out.reserve(regs.size() * 128 + 2);
  out.push_back('[');
  for (size_t i = 0; i < regs.size(); ++i) {
    if (i > 0) out.push_back(',');
    put_registration(out, regs[i]);
  }
  out.push_back(']');
  return out;
}

std::string archive_line(const ArchiveEntry& e) {
  std::string out;
  bool first = true;
  out.push_back('{');
  key(out, "drained_at", first);
  put_double(out, e.drained_at);
  key(out, "drained_by", first);
  put_string(out, e.drained_by);
  key(out, "session_id", first);
  put_string(out, e.session_id);
  // The original c2c archives no ts; we keep it (readers ignore unknown keys) so history can
  // show when a message was sent.
  put_message_fields(out, e.message, first, true);
  out.push_back('}');
  return out;
}

std::string dead_letter_line(const DeadLetterRecord& r) {
  std::string out;
  bool first = true;
  out.push_back('{');
  key(out, "deleted_at", first);
  put_double(out, r.deleted_at);
  key(out, "from_session_id", first);
  put_string(out, r.from_session_id);
  key(out, "message", first);
  out += message_json(r.message);
  out.push_back('}');
  return out;
}

std::string outbox_line(const OutboxEntry& e) {
  std::string out;
  bool first = true;
  out.push_back('{');
  key(out, "from_alias", first);
  put_string(out, e.from_alias);
  key(out, "to_alias", first);
  put_string(out, e.to_alias);
  key(out, "content", first);
  put_string(out, e.content);
  key(out, "attempts", first);
  put_int(out, e.attempts);
  key(out, "enqueued_at", first);
  put_double(out, e.enqueued_at);
  key(out, "message_id", first);
  put_string(out, e.message_id);
  if (e.last_error) {
    key(out, "last_error", first);
    put_string(out, *e.last_error);
  }
  out.push_back('}');
  return out;
}

std::string members_json(const std::vector<RoomMember>& members) {
  std::string out = "[";
  for (size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out.push_back(',');
    bool first = true;
    out.push_back('{');
    key(out, "alias", first);
    put_string(out, members[i].alias);
    key(out, "session_id", first);
    put_string(out, members[i].session_id);
    key(out, "joined_at", first);
    put_double(out, members[i].joined_at);
    out.push_back('}');
  }
  out.push_back(']');
  return out;
}

std::string room_history_line(const RoomHistoryEntry& e) {
  std::string out;
  bool first = true;
  out.push_back('{');
  key(out, "ts", first);
  put_double(out, e.ts);
  key(out, "from_alias", first);
  put_string(out, e.from_alias);
  key(out, "content", first);
  put_string(out, e.content);
  out.push_back('}');
  return out;
}

std::string string_array_json(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    put_string(out, items[i]);
  }
  out.push_back(']');
  return out;
}

std::string meta_json(const RoomMeta& meta) {
  std::string out;
  bool first = true;
  out.push_back('{');
  key(out, "visibility", first);
  put_string(out, meta.visibility);
  key(out, "invited_members", first);
  out += string_array_json(meta.invited_members);
  key(out, "created_by", first);
  put_string(out, meta.created_by);
  out.push_back('}');
  return out;
}

// ---------- readers (nlohmann) ----------

namespace {

Unexpected<> bad(std::string what) {
  return fail(ErrorCode::kIo, std::move(what));
}

std::optional<std::string> opt_string(const json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

double num_or(const json& j, const char* k, double fallback) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_number()) return fallback;
  return it->get<double>();
}

bool bool_or(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

Result<std::string> req_string(const json& j, const char* k, std::string_view what) {
  auto it = j.find(k);
  if (it == j.end() || !it->is_string()) {
    return bad(std::string(what) + " has no string \"" + k + "\"");
  }
  return it->get<std::string>();
}

Result<json> parse_json(std::string_view text, std::string_view what) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return bad(std::string(what) + " is not valid JSON: " + e.what());
  }
}

bool blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

}  // namespace

Result<Message> message_from(const json& j) {
  if (!j.is_object()) return bad("message is not a JSON object");
  Message m;
  auto from = req_string(j, "from_alias", "message");
  if (!from) return fail(from.error());
  auto to = req_string(j, "to_alias", "message");
  if (!to) return fail(to.error());
  auto content = req_string(j, "content", "message");
  if (!content) return fail(content.error());
  m.from_alias = std::move(*from);
  m.to_alias = std::move(*to);
  m.content = std::move(*content);
  m.ts = num_or(j, "ts", 0.0);
  m.deferrable = bool_or(j, "deferrable");
  m.ephemeral = bool_or(j, "ephemeral");
  m.reply_via = opt_string(j, "reply_via");
  m.message_id = opt_string(j, "message_id");
  if (m.message_id && m.message_id->empty()) m.message_id.reset();
  m.enc_status = opt_string(j, "enc_status");
  m.room_id = opt_string(j, "room_id");
  m.via_relay = bool_or(j, "via_relay");
  return m;
}

Result<std::vector<Message>> parse_inbox(std::string_view text) {
  std::vector<Message> out;
  if (blank(text)) return out;
  auto j = parse_json(text, "inbox");
  if (!j) return fail(j.error());
  if (!j->is_array()) return bad("inbox is not a JSON array");
  out.reserve(j->size());
  for (const auto& item : *j) {
    auto m = message_from(item);
    if (!m) return fail(m.error());
    out.push_back(std::move(*m));
  }
  return out;
}

Result<ArchiveEntry> archive_from(const json& j) {
  auto m = message_from(j);
  if (!m) return fail(m.error());
  ArchiveEntry e;
  e.message = std::move(*m);
  e.drained_at = num_or(j, "drained_at", 0.0);
  e.drained_by = opt_string(j, "drained_by").value_or("unknown");
  e.session_id = opt_string(j, "session_id").value_or("");
  return e;
}

Result<DeadLetterRecord> dead_letter_from(const json& j) {
  if (!j.is_object()) return bad("dead letter is not a JSON object");
  auto it = j.find("message");
  if (it == j.end()) return bad("dead letter has no \"message\"");
  auto m = message_from(*it);
  if (!m) return fail(m.error());
  DeadLetterRecord r;
  r.message = std::move(*m);
  r.deleted_at = num_or(j, "deleted_at", 0.0);
  r.from_session_id = opt_string(j, "from_session_id").value_or("");
  return r;
}

Result<OutboxEntry> outbox_from(const json& j) {
  if (!j.is_object()) return bad("outbox entry is not a JSON object");
  OutboxEntry e;
  auto from = req_string(j, "from_alias", "outbox entry");
  if (!from) return fail(from.error());
  auto to = req_string(j, "to_alias", "outbox entry");
  if (!to) return fail(to.error());
  auto content = req_string(j, "content", "outbox entry");
  if (!content) return fail(content.error());
  e.from_alias = std::move(*from);
  e.to_alias = std::move(*to);
  e.content = std::move(*content);
  e.message_id = opt_string(j, "message_id").value_or("");
  e.attempts = static_cast<int>(num_or(j, "attempts", 1));
  e.enqueued_at = num_or(j, "enqueued_at", 0.0);
  e.last_error = opt_string(j, "last_error");
  return e;
}

Result<std::vector<RoomMember>> parse_members(std::string_view text) {
  std::vector<RoomMember> out;
  if (blank(text)) return out;
  auto j = parse_json(text, "members.json");
  if (!j) return fail(j.error());
  if (!j->is_array()) return bad("members.json is not a JSON array");
  for (const auto& item : *j) {
    if (!item.is_object()) return bad("members.json row is not an object");
    auto alias = req_string(item, "alias", "room member");
    if (!alias) return fail(alias.error());
    RoomMember m;
    m.alias = std::move(*alias);
    m.session_id = opt_string(item, "session_id").value_or("");
    m.joined_at = num_or(item, "joined_at", 0.0);
    out.push_back(std::move(m));
  }
  return out;
}

Result<RoomHistoryEntry> room_history_from(const json& j) {
  if (!j.is_object()) return bad("room history line is not an object");
  RoomHistoryEntry e;
  auto from = req_string(j, "from_alias", "room history line");
  if (!from) return fail(from.error());
  auto content = req_string(j, "content", "room history line");
  if (!content) return fail(content.error());
  e.from_alias = std::move(*from);
  e.content = std::move(*content);
  e.ts = num_or(j, "ts", 0.0);
  return e;
}

Result<RoomMeta> parse_meta(std::string_view text) {
  RoomMeta meta;
  if (blank(text)) return meta;
  auto j = parse_json(text, "meta.json");
  if (!j) return fail(j.error());
  if (!j->is_object()) return bad("meta.json is not a JSON object");
  meta.visibility = opt_string(*j, "visibility").value_or("public");
  if (meta.visibility != "invite_only") meta.visibility = "public";
  meta.created_by = opt_string(*j, "created_by").value_or("");
  auto it = j->find("invited_members");
  if (it != j->end() && it->is_array()) {
    for (const auto& a : *it) {
      if (a.is_string()) meta.invited_members.push_back(a.get<std::string>());
    }
  }
  return meta;
}

Result<json> parse_object_line(std::string_view line) {
  auto j = parse_json(line, "line");
  if (!j) return j;
  if (!j->is_object()) return bad("line is not a JSON object");
  return j;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace c2c::broker::codec
