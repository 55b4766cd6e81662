#ifndef EDGETOP_CEDGELINUX_SHIM_H
#define EDGETOP_CEDGELINUX_SHIM_H
// epoll and eventfd for the HTTP client's event loop, and the heap's figures for the memory
// probe. struct epoll_event is packed on x86-64, which Swift cannot lay out faithfully, so it
// never crosses into Swift: these wrappers take and return plain integers.
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

static const uint32_t edgetop_EPOLLIN = EPOLLIN;
static const uint32_t edgetop_EPOLLOUT = EPOLLOUT;
static const uint32_t edgetop_EPOLLERR = EPOLLERR;
static const uint32_t edgetop_EPOLLHUP = EPOLLHUP;
static const uint32_t edgetop_EPOLLRDHUP = EPOLLRDHUP;

static inline int edgetop_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static inline int edgetop_epoll_ctl(int ep, int op, int fd, uint32_t events) {
    struct epoll_event e;
    e.events = events;
    e.data.u64 = 0;
    e.data.fd = fd;
    return epoll_ctl(ep, op, fd, &e);
}
static inline int edgetop_epoll_add(int ep, int fd, uint32_t events) { return edgetop_epoll_ctl(ep, EPOLL_CTL_ADD, fd, events); }
static inline int edgetop_epoll_mod(int ep, int fd, uint32_t events) { return edgetop_epoll_ctl(ep, EPOLL_CTL_MOD, fd, events); }
static inline int edgetop_epoll_del(int ep, int fd) { return epoll_ctl(ep, EPOLL_CTL_DEL, fd, 0); }

/// Waits for up to `max` (at most 256) events; writes their descriptors and event masks.
static inline int edgetop_epoll_wait(int ep, int *fds, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event ev[256];
    if (max > 256) max = 256;
    int n = epoll_wait(ep, ev, max, timeout_ms);
    for (int i = 0; i < n; i++) { fds[i] = ev[i].data.fd; events[i] = ev[i].events; }
    return n;
}

static inline int edgetop_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

// Bytes glibc's heap has handed out and not had back (for the memory probe: RSS less this is
// what the heap keeps free, plus code and stacks).
#include <malloc.h>
static inline size_t edgetop_heap_in_use(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    return mallinfo2().uordblks;
#else
    return 0;
#endif
}
#endif
