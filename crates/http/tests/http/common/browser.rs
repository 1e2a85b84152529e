//! A minimal browser for driving the pages: it keeps cookies and reads form fields.

use std::collections::BTreeMap;

use axum::{
    body::Body,
    http::{Request, Response, StatusCode, header},
};

use super::{TestApp, body_text};

/// Cookies carried from response to request, like a browser would.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: BTreeMap<String, String>,
    /// The `Accept-Language` sent with every request, if any.
    language: Option<String>,
}

/// What a page answered.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub headers: axum::http::HeaderMap,
}

impl Page {
    /// The value of the hidden field `name` in the page's first form that has one.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\"");
        let at = self.body.find(&marker)?;
        // The input tag around the marker.
        let start = self.body[..at].rfind('<')?;
        let end = at + self.body[at..].find('>')?;
        let tag = &self.body[start..end];
        let value_at = tag.find("value=\"")? + "value=\"".len();
        let value_end = value_at + tag[value_at..].find('"')?;
        Some(
            tag[value_at..value_end]
                .replace("&#x2f;", "/")
                .replace("&amp;", "&"),
        )
    }

    /// The path and query of the `Location` header, for following a redirect in-process.
    pub fn location_path(&self) -> String {
        let location = self.location.clone().expect("a redirect");
        match location.parse::<url::Url>() {
            Ok(url) => match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            },
            Err(_) => location,
        }
    }
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: BTreeMap::new(),
            language: None,
        }
    }

    /// From now on, sends `Accept-Language: {language}` with every request.
    pub fn set_language(&mut self, language: &str) {
        self.language = Some(language.to_owned());
    }

    pub async fn get(&mut self, uri: &str) -> Page {
        let request = Request::get(uri)
            .body(Body::empty())
            .expect("valid request");
        self.send(request).await
    }

    pub async fn post(&mut self, uri: &str, pairs: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("valid request");
        self.send(request).await
    }

    async fn send(&mut self, mut request: Request<Body>) -> Page {
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request
                .headers_mut()
                .insert(header::COOKIE, cookie.parse().expect("valid header"));
        }
        if let Some(language) = &self.language {
            request.headers_mut().insert(
                header::ACCEPT_LANGUAGE,
                language.parse().expect("valid header"),
            );
        }
        let response: Response<Body> = self.app.send(request).await;
        for value in response.headers().get_all(header::SET_COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((name, content)) = pair.split_once('=') {
                if content.is_empty() || value.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), content.to_owned());
                }
            }
        }
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = body_text(response).await;
        Page {
            status,
            location,
            body,
            headers,
        }
    }
}
