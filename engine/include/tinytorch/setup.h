// setup.h - module 01: who you are and what machine you work on.
//
// Submissions (milestones, competitions, Gradescope packages) are labelled with the identity you
// return here; the system check records the facts that make a benchmark number meaningful.
#pragma once

#include <string>
#include <vector>

namespace tt {

struct StudentIdentity {
    std::string name;    // "Ada Lovelace"
    std::string handle;  // "ada": 2-32 characters from a-z, 0-9, '_' and '-'; shown on leaderboards
    std::string email;   // "ada@example.com"
};

// (01) Your identity.
StudentIdentity my_identity();

// [given] What is wrong with an identity, one sentence each; empty when it is valid.
std::vector<std::string> identity_problems(const StudentIdentity& identity);

struct SystemReport {
    std::string compiler;       // e.g. "GCC 12.2.0" (from the compiler's predefined macros)
    long cpp_standard = 0;      // the value of __cplusplus, e.g. 202002
    int pointer_bits = 0;       // 64 on x86-64
    bool little_endian = false;
    bool ieee754_float = false; // float is IEEE-754 binary32
    unsigned hardware_threads = 0;  // std::thread::hardware_concurrency()
};

// (01) Facts about this machine and compiler, read at run time or compile time.
SystemReport system_check();

}  // namespace tt
