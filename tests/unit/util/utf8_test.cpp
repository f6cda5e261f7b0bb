// Text from outside is checked at the door and escaped on the way out.
#include "common/util/utf8.hpp"

#include <gtest/gtest.h>

namespace edgenas::utf8 {
namespace {

TEST(Utf8, WellFormedTextPassesAndEveryKindOfBadByteIsFound) {
  EXPECT_TRUE(valid(""));
  EXPECT_TRUE(valid("plain ascii"));
  EXPECT_TRUE(valid("Zähler 7 µs — 読み取り 🙂"));
  EXPECT_EQ(first_invalid("oops\xff"), 4u);                // a byte no UTF-8 has
  EXPECT_EQ(first_invalid("box\xff\xfe\x8c"), 3u);         // the hostname of the report
  EXPECT_EQ(first_invalid("a\x80"), 1u);                   // a lone continuation byte
  EXPECT_EQ(first_invalid("\xc3"), 0u);                    // truncated sequence
  EXPECT_EQ(first_invalid("\xc0\xaf"), 0u);                // overlong '/'
  EXPECT_EQ(first_invalid("\xe0\x80\xaf"), 0u);            // overlong, three bytes
  EXPECT_EQ(first_invalid("\xed\xa0\x80"), 0u);            // a UTF-16 surrogate
  EXPECT_EQ(first_invalid("\xf4\x90\x80\x80"), 0u);        // above U+10FFFF
  EXPECT_EQ(first_invalid("ok\xf0\x9f\x99\x82\xf5"), 6u);  // after a valid 4-byte sequence
}

TEST(Utf8, RepairReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(repaired("oops\xff"), "oops\xEF\xBF\xBD");
  EXPECT_EQ(repaired("a\xff\xfe"
                     "b"),
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(repaired("Zähler"), "Zähler");
  EXPECT_TRUE(valid(repaired("\xc0\xaf\xed\xa0\x80\x80")));
}

TEST(Utf8, PrintableEscapesBadBytesAndControlCharactersAndIsBounded) {
  EXPECT_EQ(printable("box\xff\xfe\x8c"), "box\\xff\\xfe\\x8c");
  EXPECT_EQ(printable("a\x1b[2Jb\n"), "a\\x1b[2Jb\\x0a");  // a terminal escape, a newline
  EXPECT_EQ(printable("Zähler"), "Zähler");
  EXPECT_EQ(printable(std::string(500, 'x'), 10), std::string(10, 'x') + "...");
  EXPECT_TRUE(valid(printable("\xff\xff\xff")));
}

TEST(Utf8, JsonTextNeverThrowsOnBadBytes) {
  nlohmann::json j{{"error", "oops\xff"}, {"box\xfe", 1}};
  EXPECT_THROW((void)j.dump(), nlohmann::json::type_error);  // what aborted the coordinator
  std::string text;
  EXPECT_NO_THROW(text = json_text(j));
  EXPECT_TRUE(valid(text));
  EXPECT_NE(text.find("oops\xEF\xBF\xBD"), std::string::npos) << text;
}

}  // namespace
}  // namespace edgenas::utf8
